/**
 * The event log: where applications' interaction events are appended and from which trainers
 * consume them as a group with per-partition offsets (Kafka, or the embedded in-memory log).
 * Records carry raw bytes: validation happens in the consumer, so a bad event can be dead-lettered
 * with its original bytes.
 */

/** A record to append. `key` chooses the partition (the user id for events). */
export interface LogRecord {
  readonly key: string;
  readonly value: Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch; defaults to the append time. */
  readonly timestamp?: number;
}

/** A record as consumed, with where it sits in the log. */
export interface ConsumedRecord {
  readonly key: string | null;
  readonly value: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly partition: number;
  readonly offset: number;
  /** Log append time (or producer time), milliseconds since the epoch. */
  readonly timestamp: number;
}

/** A run of consecutive records of one partition. */
export interface RecordBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly ConsumedRecord[];
  /** Offset of the first record. */
  readonly firstOffset: number;
  /** Offset after the last record: where this partition continues. */
  readonly nextOffset: number;
  /** Offset after the newest record in the partition when the batch was fetched (for lag). */
  readonly highWatermark: number;
}

export interface BatchContext {
  /** Keeps the group membership alive during a long batch. */
  heartbeat(): Promise<void>;
  /** True once the partition was revoked or the consumer is stopping: stop and return. */
  isStale(): boolean;
  /** Marks records before `nextOffset` as processed (drives the group's committed offset and lag). */
  markProcessed(nextOffset: number): void;
}

/** Which of the log's topics to consume. */
export type LogTopic = 'events' | 'dead-letter';

export interface ConsumeOptions {
  readonly groupId: string;
  readonly topic?: LogTopic;
  /**
   * Called when partitions are assigned, before any of their batches is handed over. Returns the
   * offset to start each partition from (the offsets stored with the model); partitions it leaves
   * out start from the group's committed offset, or from the beginning.
   */
  onAssign?(partitions: readonly number[]): Promise<ReadonlyMap<number, number>>;
  /** Called when partitions are taken away (rebalance or stop). */
  onRevoke?(partitions: readonly number[]): Promise<void> | void;
  /**
   * Processes one batch. Throwing a retriable error (see shared/errors) re-delivers the records not
   * marked processed, after a pause; any other error stops this consumer and reaches `onError`.
   */
  eachBatch(batch: RecordBatch, context: BatchContext): Promise<void>;
  /**
   * At most how many batches, each of a different partition, may be in `eachBatch` at the same
   * time (default 1). Batches of one partition always come one after the other, in order.
   */
  readonly concurrency?: number;
  /** Called once when the consumer stops because eachBatch threw a non-retriable error. */
  onError?(error: unknown): void;
}

export interface Subscription {
  /** Partitions currently assigned to this consumer. */
  assignment(): readonly number[];
  /**
   * Continues an assigned partition from `offset`: the next batch of that partition starts
   * there (batches fetched before are stale). Used after a fenced write, to move to the
   * offset stored with the model.
   */
  seek(partition: number, offset: number): void;
  /** Stops fetching the given partitions (all when omitted) until resumed. */
  pause(partitions?: readonly number[]): void;
  resume(partitions?: readonly number[]): void;
  /** Finishes the batch in progress, leaves the group and stops. */
  stop(): Promise<void>;
}

/** A record that failed validation, kept with its original bytes and the reason. */
export interface DeadLetterRecord {
  readonly key: string | null;
  readonly value: Uint8Array;
  readonly reason: { readonly code: string; readonly message: string };
  readonly source?: { readonly partition: number; readonly offset: number };
}

/** Header names under which a dead-lettered record carries its reason. */
export const DEAD_LETTER_HEADERS = {
  code: 'recsys-error-code',
  message: 'recsys-error-message',
  sourcePartition: 'recsys-source-partition',
  sourceOffset: 'recsys-source-offset',
} as const;

/** The headers a dead-lettered record is written with. */
export function deadLetterHeaders(record: DeadLetterRecord): Record<string, string> {
  const headers: Record<string, string> = {
    [DEAD_LETTER_HEADERS.code]: record.reason.code,
    [DEAD_LETTER_HEADERS.message]: record.reason.message.slice(0, 1024),
  };
  if (record.source !== undefined) {
    headers[DEAD_LETTER_HEADERS.sourcePartition] = String(record.source.partition);
    headers[DEAD_LETTER_HEADERS.sourceOffset] = String(record.source.offset);
  }
  return headers;
}

export interface EventLog {
  readonly kind: 'kafka' | 'memory';
  /** Number of partitions of the events topic. */
  partitions(): Promise<number>;
  /** Creates the topics when missing (idempotent). */
  ensureTopics(): Promise<void>;
  /** Appends records to the events topic; resolves once they are durable in the log. */
  append(records: readonly LogRecord[]): Promise<void>;
  /** Appends records to the dead-letter topic. */
  deadLetter(records: readonly DeadLetterRecord[]): Promise<void>;
  /** Joins a consumer group on a topic. */
  consume(options: ConsumeOptions): Promise<Subscription>;
  /** Offsets after the newest record of each partition of the events topic. */
  endOffsets(topic?: LogTopic): Promise<ReadonlyMap<number, number>>;
  /** True when the log answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
