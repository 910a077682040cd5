import type { CommitBatch } from '../../shared/ports/index.ts';
import type { BatchEvent } from './decode.ts';

/** What a model contributes to one batch's atomic write, and what the batch taught it. */
export interface TrainedBatch {
  /** Rows, counters and registry entries of this model (the worker adds offset and serving data). */
  readonly writes: Omit<CommitBatch, 'offset'>;
  /** Mean loss of the batch's steps (NaN when none). */
  readonly loss: number;
  /** Steps rejected because a value was not finite. */
  readonly rejected: number;
  /** Ranks (0-based, among 100) of the events sampled for prequential evaluation. */
  readonly ranks: readonly number[];
  /** New items seen in the batch. */
  readonly newItems: number;
}

/**
 * One model as the trainer's consumer group sees it: trained batch by batch from the event
 * stream, its local rows a cache of the store. The worker calls, for every batch:
 * `train`, then `committed` when the write went through, or `discard` when it was fenced or
 * failed (the local rows then hold changes the store does not have, so they are read again).
 */
export interface ModelTrainer {
  readonly name: 'mf' | 'neumf';
  /** After partitions were assigned: the rows of users may have moved; read them again. */
  onAssign(): Promise<void>;
  train(events: readonly BatchEvent[], now: number): Promise<TrainedBatch>;
  committed(): void;
  /**
   * The batch was not written. `everything`: the store may have moved in ways the local cache
   * cannot know (a fenced write: another consumer wrote, or Redis restarted and lost writes), so
   * every cached row is read again; otherwise only what the batch touched.
   */
  discard(everything?: boolean): void;
  /** Rows held locally. */
  cacheRows(): number;
  /** Called between batches (at most every second): periodic publishing. */
  tick?(now: number): Promise<void>;
  /** Releases resources (TF.js tensors). */
  dispose?(): void;
}
