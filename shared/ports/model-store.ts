/**
 * The model store: embedding rows and the consumed offsets they reflect (Redis, or the embedded
 * in-memory store). Rows are sparse: each training step reads the rows it needs and writes back
 * only those. Offsets are written in the same atomic step as the rows (effectively-once).
 */

/** An embedding row: a vector plus the scalars the models keep with it. */
export interface Row {
  readonly vector: Float32Array;
  readonly bias: number;
  /** Interactions applied to this row (drives cold-to-warm blending). */
  readonly count: number;
  /** Incremented by the store on every write. */
  readonly version: number;
  /** Milliseconds since the epoch of the last write. */
  readonly updatedAt: number;
}

/** The values a writer supplies; the store assigns `version`. */
export interface RowValue {
  readonly vector: Float32Array;
  readonly bias: number;
  readonly count: number;
  readonly updatedAt: number;
}

/** An additive change to a shared row (item rows, dense weights), merged atomically. */
export interface RowDelta {
  readonly vector: Float32Array;
  readonly bias: number;
  readonly count: number;
  readonly updatedAt: number;
  /** Starting value when the row does not exist yet (zeros when omitted). */
  readonly init?: Float32Array;
}

/** A named group of rows: `mf:user`, `mf:item`, `ncf:gmf:item`, ... */
export type RowTable = string;

export interface RowEntry<T> {
  readonly id: string;
  readonly value: T;
}

export interface TableRows<T> {
  readonly table: RowTable;
  readonly rows: readonly RowEntry<T>[];
}

/** Moves a consumer's stored position from `fromOffset` to `nextOffset` (compare-and-set). */
export interface OffsetAdvance {
  /** Whose offsets: usually the consumer group (one per model). */
  readonly scope: string;
  readonly partition: number;
  /** Must equal the stored next offset (any value is accepted when none is stored yet). */
  readonly fromOffset: number;
  readonly nextOffset: number;
}

export interface CounterIncrement {
  readonly name: string;
  readonly field: string;
  readonly by: number;
}

/** Everything one consumed batch changes, written all-or-nothing. */
export interface CommitBatch {
  readonly offset?: OffsetAdvance;
  readonly puts?: readonly TableRows<RowValue>[];
  readonly deltas?: readonly TableRows<RowDelta>[];
  readonly counters?: readonly CounterIncrement[];
}

export type CommitResult =
  | { readonly status: 'committed' }
  /** The batch did not start at the stored offset: nothing was written. */
  | { readonly status: 'fenced'; readonly storedOffset: number };

export interface ModelStore {
  readonly kind: 'redis' | 'memory';
  /** Reads rows; a missing row is `undefined`, in the order of `ids`. */
  getRows(table: RowTable, ids: readonly string[]): Promise<(Row | undefined)[]>;
  /** Overwrites rows owned by one writer (user rows belong to one partition). */
  putRows(table: RowTable, rows: readonly RowEntry<RowValue>[]): Promise<void>;
  /** Adds deltas to shared rows atomically: concurrent writers' deltas sum exactly. */
  addDeltas(table: RowTable, deltas: readonly RowEntry<RowDelta>[]): Promise<void>;
  /** Writes a batch's rows, deltas, counters and offset in one atomic step, or nothing if fenced. */
  commit(batch: CommitBatch): Promise<CommitResult>;
  /** Stored next offsets of a scope, by partition. */
  getOffsets(scope: string): Promise<ReadonlyMap<number, number>>;
  /** Values of counters, missing fields read as 0. */
  getCounters(name: string, fields: readonly string[]): Promise<number[]>;
  /** True when the store answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
