import type { HybridMfConfig } from '../model/hybrid-mf.ts';
import type { NeuMfConfig } from '../model/neumf/neumf.ts';
import type { RecsysConfig } from './schema.ts';

/**
 * The models' own configurations from the recsys configuration. The trainer and serving both use
 * these, so the rows serving starts from for an id the trainer never wrote are the ones the trainer
 * would create, and the NeuMF tower has the same shape on both sides.
 */
export function mfConfigFrom(config: RecsysConfig): Partial<HybridMfConfig> {
  const mf = config.model.mf;
  const optimizer = {
    kind: mf.optimizer,
    learningRate: mf.learningRate,
    l2: mf.l2,
    clipNorm: mf.clipNorm,
    maxNorm: mf.maxNorm,
    epsilon: 1e-8,
    initialAccumulator: 0.1,
  } as const;
  return {
    dim: mf.dim,
    seed: config.model.seed,
    initStd: mf.initStd,
    loss: mf.loss,
    negatives: mf.negatives,
    sampler: 'uniform',
    historySize: config.trainer.historyLimit,
    optimizer,
    biasOptimizer: { ...optimizer, learningRate: mf.biasLearningRate, l2: 0, maxNorm: 0 },
    l2Bias: mf.l2,
  };
}

export function neumfConfigFrom(config: RecsysConfig): Partial<NeuMfConfig> {
  const n = config.model.neumf;
  return {
    seed: config.model.seed,
    gmfDim: n.gmfDim,
    mlpDim: n.mlpDim,
    hidden: [...n.hidden],
    contextDim: n.contextDim,
    contextFields: [...config.model.context.fields],
    negatives: n.negatives,
    batchSize: n.batchSize,
    historySize: config.trainer.historyLimit,
    rowOptimizer: {
      kind: 'adagrad',
      learningRate: n.learningRate,
      l2: 0,
      clipNorm: 5,
      maxNorm: 10,
      epsilon: 1e-8,
      initialAccumulator: 0.1,
    },
    denseLearningRate: n.denseLearningRate,
  };
}
