/** One interaction replayed into a model under evaluation (indices into the data set). */
export interface EvalInteraction {
  readonly user: number;
  readonly item: number;
  /** The rating (explicit) or 1 (implicit). */
  readonly value: number;
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly context?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * What a protocol needs from a model: learn one interaction at a time, score items for a user.
 * Implementations wrap the real models (shared/model) with the data set's indices.
 */
export interface EvalModel {
  readonly name: string;
  /** 'explicit' models learn and predict ratings. */
  readonly feedback: 'implicit' | 'explicit';
  learn(x: EvalInteraction): void;
  /**
   * Sees each training interaction exactly once, in time order, whatever the epochs and their
   * order (stream statistics such as the session signal's transitions). Prequential calls it
   * right after `learn`.
   */
  observe?(x: EvalInteraction): void;
  /** Finishes pending work (e.g. a partial NeuMF micro-batch) before scoring. */
  flush(): void;
  /** Scores of all `itemCount` items for a user, into `out`. */
  scoreAll(user: number, out: Float32Array, context?: EvalInteraction['context']): void;
  /** Scores of some items (default: from scoreAll). */
  scoreItems?(user: number, items: Int32Array, out: Float32Array, context?: EvalInteraction['context']): void;
  /** A rating prediction (explicit models). */
  predictRating?(user: number, item: number): number;
  /** Releases resources (TF.js tensors). */
  dispose?(): void;
}

export interface EvalResult {
  readonly protocol: 'loo' | 'split' | 'prequential';
  readonly model: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly metrics: Readonly<Record<string, number>>;
  readonly trainSeconds: number;
  readonly eventsPerSecond: number;
}

/** Progress of a long evaluation, for a progress bar. */
export type ProgressListener = (phase: string, done: number, total: number) => void;
