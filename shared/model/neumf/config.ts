import type { Context } from '../context.ts';
import type { RowOptimizerConfig } from '../optimizer.ts';
import type { TableState } from '../embedding-table.ts';
import type { SamplerState } from '../negative-sampler.ts';
import type { UserHistory } from '../user-history.ts';

export interface NeuMfConfig {
  readonly seed: number;
  /** GMF embedding size (per side). */
  readonly gmfDim: number;
  /** MLP embedding size per side: the MLP input is 2 * mlpDim + context. */
  readonly mlpDim: number;
  /** Hidden layer sizes of the MLP tower ("MLP 64-32-16" = mlpDim 32, hidden [32, 16]). */
  readonly hidden: readonly number[];
  /** Size of each context field's embedding (0: no context). */
  readonly contextDim: number;
  /** Extra categorical context fields besides hour, dow and device. */
  readonly contextFields: readonly string[];
  /** Sampled negatives per positive. */
  readonly negatives: number;
  readonly sampler: 'uniform' | 'popularity';
  /** Examples per training step (micro-batch). */
  readonly batchSize: number;
  readonly initStd: number;
  readonly historySize: number;
  /** Row-wise optimizer of the embedding rows. */
  readonly rowOptimizer: RowOptimizerConfig;
  /** Adam learning rate of the dense tower. */
  readonly denseLearningRate: number;
}

export const DEFAULT_NEUMF_CONFIG: NeuMfConfig = {
  seed: 42,
  gmfDim: 32,
  mlpDim: 32,
  hidden: [32, 16],
  contextDim: 8,
  contextFields: [],
  negatives: 4,
  sampler: 'uniform',
  batchSize: 256,
  initStd: 0.01,
  historySize: 256,
  rowOptimizer: {
    kind: 'adagrad',
    learningRate: 0.05,
    l2: 0,
    clipNorm: 5,
    maxNorm: 10,
    epsilon: 1e-8,
    initialAccumulator: 0.1,
  },
  denseLearningRate: 0.002,
};

/** An interaction for NeuMF: interned user and item, weight (negative = does not want), context. */
export interface NeuMfInteraction {
  readonly user: number;
  readonly item: number;
  readonly weight: number;
  readonly time: number;
  readonly context?: Context | undefined;
}

/** A dense tensor's values and shape. */
export interface TensorState {
  readonly shape: number[];
  readonly values: Float32Array;
}

/** Everything needed to resume NeuMF training exactly where it stopped. */
export interface NeuMfState {
  readonly format: 'recsys-neumf';
  readonly version: 1;
  readonly config: NeuMfConfig;
  readonly tables: Record<'gmfUsers' | 'gmfItems' | 'mlpUsers' | 'mlpItems' | 'contexts', TableState>;
  /** Tower weights in Tower.variables order. */
  readonly dense: TensorState[];
  /** Adam's iteration count and moments, in the optimizer's own order. */
  readonly optimizer: TensorState[];
  /** Adam's running powers beta1^t and beta2^t, exactly as accumulated (pow() would round differently). */
  readonly adamPowers: [number, number] | null;
  readonly pending: {
    users: Int32Array;
    items: Int32Array;
    ctx: Int32Array;
    labels: Float32Array;
    weights: Float32Array;
  };
  readonly counters: { steps: number; examples: number; rejectedSteps: number; lastLoss: number };
  readonly random: number;
  readonly history: ReturnType<UserHistory['toState']>;
  readonly sampler: SamplerState;
}

/**
 * NeuMF (He et al. 2017: GMF and MLP towers joined by one output unit) with context embeddings in
 * the MLP tower, trained from the event stream in micro-batches.
 *
 * Embedding rows stay sparse, outside TF.js (DESIGN.md): each step gathers the rows of the batch
 * into small tensors, TF.js computes the loss and the gradients with respect to those tensors and
 * the dense tower, the rows get row-wise Adagrad updates (duplicates within a batch summed) and the
 * tower gets Adam. Nothing in TF.js ever holds a whole table.
 */
