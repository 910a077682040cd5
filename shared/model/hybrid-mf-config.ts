import type { TableState } from './embedding-table.ts';
import type { SamplerState } from './negative-sampler.ts';
import type { RowOptimizerConfig } from './optimizer.ts';
import type { UserHistory } from './user-history.ts';

export interface HybridMfConfig {
  readonly dim: number;
  readonly seed: number;
  /** Standard deviation of initial row values. */
  readonly initStd: number;
  /** Pairwise (BPR) or pointwise (logistic) loss for implicit feedback. */
  readonly loss: 'bpr' | 'logistic';
  /** Sampled negatives per positive implicit event. */
  readonly negatives: number;
  readonly sampler: 'uniform' | 'popularity';
  /** Items remembered per user (negative sampling avoids them). */
  readonly historySize: number;
  /** Optimizer of embedding vectors (id and feature rows). */
  readonly optimizer: RowOptimizerConfig;
  /** Optimizer of biases (its learningRate and kind; l2 is `l2Bias`). */
  readonly biasOptimizer: RowOptimizerConfig;
  readonly l2Bias: number;
  /** Learn item biases for implicit feedback too (a popularity prior). */
  readonly implicitItemBias: boolean;
}

export const DEFAULT_MF_CONFIG: HybridMfConfig = {
  dim: 64,
  seed: 42,
  initStd: 0.1,
  loss: 'bpr',
  negatives: 1,
  sampler: 'uniform',
  historySize: 100,
  optimizer: {
    kind: 'adagrad',
    learningRate: 0.05,
    l2: 0.0005,
    clipNorm: 5,
    maxNorm: 10,
    epsilon: 1e-8,
    initialAccumulator: 0.1,
  },
  biasOptimizer: {
    kind: 'adagrad',
    learningRate: 0.05,
    l2: 0,
    clipNorm: 5,
    maxNorm: 0,
    epsilon: 1e-8,
    initialAccumulator: 0.1,
  },
  l2Bias: 0.0005,
  implicitItemBias: true,
};

/** One interaction as the model sees it: interned indices, a weight and, for ratings, a value. */
export interface Interaction {
  readonly user: number;
  readonly item: number;
  /** From the event type: > 0 wants, < 0 does not want. */
  readonly weight: number;
  /** 'explicit': `value` is a rating learned by squared loss. */
  readonly kind: 'implicit' | 'explicit';
  readonly value: number;
  /** Milliseconds since the epoch. */
  readonly time: number;
  /**
   * The event's context rows (indices into `contexts`: `device=mobile`, `hour=evening`, ...) and
   * user x context rows (indices into `userContexts`: `<user>@device=mobile`). Absent: the step
   * is context-free.
   */
  readonly context?: ContextRows;
}

/** Context rows of one event or request (see contextKeys in context.ts). */
export interface ContextRows {
  readonly shared: Int32Array;
  readonly crosses: Int32Array;
}

/**
 * Hybrid matrix factorization trained one event at a time (LightFM-style hybrid, online SGD).
 *
 * A user's vector is its id row plus the mean of its feature rows; the same for items, so a new
 * item with known tags scores sensibly before anyone interacts with it. Scores are
 * `u . v + b_i` for implicit feedback and `mu + b_u + b_i + u . v` for ratings.
 *
 * Context is the factorization-machine view (Rendle et al., SIGIR 2011): every context value
 * (`device=mobile`) and every user x context cross (`user-7@device=mobile`) is a feature with its
 * own row, and a factorization machine's score of an item for (user, context) is, up to terms
 * that do not depend on the item, `(u + context rows) . v_i + b_i`. So the query vector of a
 * request is the user's vector plus its context rows (the mean of the shared ones plus the mean
 * of the crosses: addContextVectors), and a step's user gradient goes to them in those shares.
 * Context rows start at zero: a value never learnt adds nothing, and the query falls back to the
 * context-free vector.
 *
 * Implicit positives are learned with BPR (or logistic loss) against sampled negatives; a negative
 * weight (dislike, an impression without a click) is a logistic step towards 0. Every step is
 * computed from the current values first and applied only when all gradients are finite; a
 * rejected step changes nothing and is counted in `rejectedSteps`.
 */
/** Everything needed to resume training exactly where it stopped. */
export interface HybridMfState {
  readonly format: 'recsys-mf';
  readonly version: 1;
  readonly config: HybridMfConfig;
  readonly tables: {
    users: TableState;
    items: TableState;
    userFeatures: TableState;
    itemFeatures: TableState;
    /** Absent in states written before context rows existed. */
    contexts?: TableState;
    userContexts?: TableState;
  };
  readonly itemFeatureLists: FeatureListsState;
  readonly userFeatureLists: FeatureListsState;
  readonly ratingSum: number;
  readonly ratingCount: number;
  readonly steps: number;
  readonly rejectedSteps: number;
  readonly random: number;
  readonly history: ReturnType<UserHistory['toState']>;
  readonly sampler: SamplerState;
}

/** Per row: feature indices and weights, concatenated with offsets. */
export interface FeatureListsState {
  readonly offsets: Int32Array;
  readonly features: Int32Array;
  readonly weights: Float32Array;
}
