import type { ModelName } from '../../shared/model/registry.ts';
import type { CommitBatch } from '../../shared/ports/index.ts';
import type { BatchEvent } from './decode.ts';

/** What training one batch taught a model. */
export interface TrainStats {
  /** Mean loss of the batch's steps (NaN when none). */
  readonly loss: number;
  /** Steps rejected because a value was not finite. */
  readonly rejected: number;
  /** Ranks (0-based, among 100) of the events sampled for prequential evaluation. */
  readonly ranks: readonly number[];
  /** New items seen in the batch. */
  readonly newItems: number;
}

/** What `prefetch` started reading (opaque to the worker). */
export interface Prefetched {
  /** Settles when the reads are done (never rejects: a failed read is read again by `train`). */
  readonly settled: Promise<void>;
}

/** A model's share of one atomic write. */
export interface PendingWrite {
  readonly writes: Omit<CommitBatch, 'offsets'>;
  /** Call once the write went through. */
  readonly done: () => void;
}

/**
 * One model as the trainer's consumer group sees it: trained batch by batch from the event
 * stream, its local rows a cache of the store. The worker trains one or more batches, then asks
 * for `writes` (everything changed since the last write) and writes them with the batches'
 * offsets in one atomic step; then calls its `done`, or `discard` when the write was fenced or
 * failed (the local rows then hold changes the store does not have).
 */
export interface ModelTrainer {
  readonly name: ModelName;
  /** After partitions were assigned: the rows of users may have moved; read them again. */
  onAssign(): Promise<void>;
  /**
   * Starts reading what a batch will need from the store (rows and histories of its users) before
   * its turn to train, while other batches train. The result goes to `train`; it is only a hint:
   * `train` uses what is still valid then and reads the rest.
   */
  prefetch?(events: readonly BatchEvent[]): Prefetched;
  train(events: readonly BatchEvent[], now: number, prefetched?: Prefetched): Promise<TrainStats>;
  /**
   * Rows, counters and registry entries of everything trained since the last `writes`, and what
   * to record once they are written. Training may go on while the write is in flight.
   */
  writes(now: number): PendingWrite;
  /**
   * The trained batches were not written. `everything`: the store may have moved in ways the
   * local cache cannot know (a fenced write: another consumer wrote, or Redis restarted and lost
   * writes), so every cached row is read again; otherwise only what the batches touched.
   */
  discard(everything?: boolean): void;
  /** Rows held locally. */
  cacheRows(): number;
  /** Called between writes (at most every second): periodic publishing. */
  tick?(now: number): Promise<void>;
  /** At a clean stop, after the last write: final publishing (NeuMF's tower). */
  finish?(): Promise<void>;
  /** Releases resources (TF.js tensors). */
  dispose?(): void;
}
