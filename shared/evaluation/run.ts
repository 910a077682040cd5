import { RecsysError } from '../errors/index.ts';
import { DEFAULT_MF_CONFIG, type HybridMfConfig } from '../model/hybrid-mf.ts';
import { DEFAULT_NEUMF_CONFIG, type NeuMfConfig } from '../model/neumf/neumf.ts';
import { useBackend, type BackendPreference } from '../model/tf-backend.ts';
import type { ItemTransitionsConfig } from '../model/item-transitions.ts';
import { MfEvalModel, NeuMfEvalModel, PopularityModel } from './models.ts';
import { HybridEvalModel, SessionEvalModel } from './session-models.ts';
import type { EvalModel, EvalResult, ProgressListener } from './model.ts';
import { loadMovieLens100k, type MovieLens } from './movielens.ts';
import { evalPreset } from './presets.ts';
import { runLeaveOneOut } from './protocols/loo.ts';
import { runPrequential } from './protocols/prequential.ts';
import { runRandomSplit } from './protocols/split.ts';

/** The models `recsys eval` knows. `hybrid` is MF plus the session signal, as serving blends them. */
export const EVAL_MODELS = ['pop', 'mf', 'neumf', 'session', 'hybrid'] as const;
export type EvalModelName = (typeof EVAL_MODELS)[number];

export interface EvaluationOptions {
  readonly data: string;
  readonly protocol: 'loo' | 'split' | 'prequential';
  readonly model: EvalModelName;
  readonly feedback: 'implicit' | 'explicit';
  readonly seed: number;
  readonly epochs?: number;
  readonly order?: 'time' | 'shuffle';
  readonly features?: boolean;
  /** Prequential: share of events ranked (1 = all). */
  readonly sample?: number;
  readonly k?: number;
  readonly backend?: BackendPreference;
  /** Learning rate of the embedding rows (overrides the preset's). */
  readonly learningRate?: number;
  readonly mf?: Partial<HybridMfConfig>;
  readonly neumf?: Partial<NeuMfConfig>;
  readonly transitions?: Partial<ItemTransitionsConfig>;
  /** Hybrid: weight of the session signal against MF's. */
  readonly sessionWeight?: number;
}

/** Loads the data set, builds the model with the protocol's preset (overridden by options), runs. */
export async function runEvaluation(
  options: EvaluationOptions,
  onProgress?: ProgressListener,
): Promise<EvalResult & { backend?: string }> {
  if (options.feedback === 'explicit' && options.model !== 'mf') {
    throw new RecsysError('VALIDATION_FAILED', {
      message: `--feedback explicit needs --model mf (${options.model} ranks items; it does not predict ratings).`,
    });
  }
  const data = loadMovieLens100k(options.data);
  const preset = evalPreset(options.protocol, options.feedback);
  // Popularity and the session signal only count: one pass gives the same ranking as many.
  const epochs =
    options.epochs ?? (options.model === 'pop' || options.model === 'session' ? 1 : preset.epochs);
  const order = options.order ?? preset.order;
  const features = options.features ?? preset.features;
  let backend: string | undefined;
  if (options.model === 'neumf') backend = await useBackend(options.backend ?? 'auto');
  const model = createModel(data, options, preset, features);
  const k = options.k ?? 10;
  try {
    const result =
      options.protocol === 'loo'
        ? runLeaveOneOut(data, model, { epochs, order, seed: options.seed, negatives: 99, k }, onProgress)
        : options.protocol === 'split'
          ? runRandomSplit(data, model, { epochs, order, seed: options.seed, ratio: 0.75, k }, onProgress)
          : runPrequential(data, model, { k, seed: options.seed, sample: options.sample ?? 1 }, onProgress);
    const settings = {
      ...result.settings,
      data: 'ml-100k',
      features,
      ...(options.model === 'mf' || options.model === 'hybrid'
        ? { mf: { ...preset.mf, ...options.mf } }
        : {}),
      ...(options.model === 'session' || options.model === 'hybrid'
        ? { transitions: { ...preset.transitions, ...options.transitions } }
        : {}),
      ...(options.model === 'hybrid' ? { sessionWeight: options.sessionWeight ?? preset.sessionWeight } : {}),
      ...(options.model === 'neumf' ? { neumf: { ...preset.neumf, ...options.neumf }, backend } : {}),
    };
    return { ...result, settings, ...(backend ? { backend } : {}) };
  } finally {
    model.dispose?.();
  }
}

function createModel(
  data: MovieLens,
  options: EvaluationOptions,
  preset: ReturnType<typeof evalPreset>,
  features: boolean,
): EvalModel {
  switch (options.model) {
    case 'pop':
      return new PopularityModel(data.items.length);
    case 'mf':
      return new MfEvalModel(data, {
        feedback: options.feedback,
        features,
        config: mfConfig(options, preset),
      });
    case 'session':
      return new SessionEvalModel({ ...preset.transitions, ...options.transitions });
    case 'hybrid':
      return new HybridEvalModel(data, {
        feedback: 'implicit',
        features,
        config: mfConfig(options, preset),
        transitions: { ...preset.transitions, ...options.transitions },
        sessionWeight: options.sessionWeight ?? preset.sessionWeight,
      });
    case 'neumf': {
      const config = { ...DEFAULT_NEUMF_CONFIG, ...preset.neumf, ...options.neumf, seed: options.seed };
      const rowOptimizer =
        options.learningRate === undefined
          ? config.rowOptimizer
          : { ...config.rowOptimizer, learningRate: options.learningRate };
      return new NeuMfEvalModel(data, { config: { ...config, rowOptimizer } });
    }
  }
}

function mfConfig(
  options: EvaluationOptions,
  preset: ReturnType<typeof evalPreset>,
): Partial<HybridMfConfig> {
  const config = { ...DEFAULT_MF_CONFIG, ...preset.mf, ...options.mf, seed: options.seed };
  const optimizer =
    options.learningRate === undefined
      ? config.optimizer
      : { ...config.optimizer, learningRate: options.learningRate };
  return { ...config, optimizer };
}
