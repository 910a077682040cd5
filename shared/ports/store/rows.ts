/**
 * The model store's rows and its atomic commit: embedding rows and the consumed offsets they
 * reflect. Rows are sparse: each training step reads the rows it needs and writes back only
 * those. Offsets are written in the same atomic step as the rows (effectively-once). The trainer
 * is the writer; serving reads rows through ServingReads and follows ChangeFeeds.
 */

/** An embedding row: a vector plus the scalars the models keep with it. */
export interface Row {
  readonly vector: Float32Array;
  /** Optimizer state kept with the row (e.g. Adagrad accumulators); may be empty. */
  readonly state: Float32Array;
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
  /** Optimizer state to keep with the row (empty when omitted). */
  readonly state?: Float32Array;
  readonly bias: number;
  readonly count: number;
  readonly updatedAt: number;
}

/**
 * An additive change to a shared row (item rows, dense weights), merged atomically. Give the
 * change in float64 (the difference of two float32 rows is exact there): the store adds in float64
 * and rounds once, so a lone writer's row in the store equals its local row bit for bit.
 */
export interface RowDelta {
  readonly vector: Float64Array | Float32Array;
  /** Change of the optimizer state (accumulators add up too); empty when omitted. */
  readonly state?: Float64Array | Float32Array;
  readonly bias: number;
  readonly count: number;
  readonly updatedAt: number;
  /** Starting vector when the row does not exist yet (zeros when omitted). */
  readonly init?: Float32Array;
  /**
   * The row's version the writer started from (0: the row did not exist) and the values it
   * ends at. When the stored version still matches, the store may write `full` directly instead
   * of adding the delta: the same result (the writer guarantees base + delta == full), far less
   * work. When another writer changed the row meanwhile, the delta is added as usual.
   */
  readonly expectedVersion?: number;
  readonly full?: {
    readonly vector: Float32Array;
    readonly state?: Float32Array;
    readonly bias: number;
    readonly count: number;
  };
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

/** Items to append to a user's recent history (oldest first); the store keeps the latest N. */
export interface HistoryAppend {
  readonly userId: string;
  readonly items: readonly string[];
}

/**
 * An addition to an item's popularity in one segment, in the log domain (shared/model/popularity.ts):
 * `by` is log2 of the decayed weight, and the store keeps log2(2^score + 2^by). Scores are
 * read back (getPopular) in the same log domain, best first.
 */
export interface PopularityIncrement {
  readonly segment: string;
  readonly itemId: string;
  readonly by: number;
}

/** An addition to the pair weight T[item][neighbor] of the session signal (item-transitions.ts). */
export interface TransitionIncrement {
  readonly itemId: string;
  readonly neighborId: string;
  readonly by: number;
}

/**
 * Additions to the item transition lists. The store adds each `by` to the pair's weight and to
 * the item's degree (the total weight of its row, kept whole: it is history), and when a list
 * holds more than twice `limit` neighbours it keeps its `limit` strongest (ties: the greater id
 * stays, as Redis orders equal scores). Every item whose list changed is appended to
 * TRANSITIONS_STREAM in the same step.
 */
export interface TransitionWrites {
  readonly limit: number;
  readonly increments: readonly TransitionIncrement[];
}

/**
 * Everything one or more consumed batches change, written all-or-nothing. Several batches (of
 * several partitions, or consecutive batches of one) can go in one write: each brings its offset
 * advance, checked in order.
 */
export interface CommitBatch {
  readonly offsets?: readonly OffsetAdvance[];
  readonly puts?: readonly TableRows<RowValue>[];
  readonly deltas?: readonly TableRows<RowDelta>[];
  readonly counters?: readonly CounterIncrement[];
  /** Per-user recent items (for seen-filtering, session fallback and negative sampling). */
  readonly history?: readonly HistoryAppend[];
  readonly popularity?: readonly PopularityIncrement[];
  /** The session signal's item-to-item pair weights. */
  readonly transitions?: TransitionWrites;
  /** Item ids to register (in this order) when not registered yet: a stable item order per registry. */
  readonly newItems?: { readonly registry: string; readonly ids: readonly string[] };
  /** Item ids whose rows changed, appended to a change stream serving follows. */
  readonly changedItems?: { readonly stream: string; readonly ids: readonly string[] };
}

export type CommitResult =
  | { readonly status: 'committed' }
  /** A batch did not start at the stored offset of its partition: nothing was written. */
  | { readonly status: 'fenced'; readonly partition: number; readonly storedOffset: number };

export interface RowStore {
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
  /** Item ids of a registry in registration order, from position `from`. */
  getItemRegistry(registry: string, from: number): Promise<string[]>;
  /** Deletes rows of a table not written since `olderThan` (ms since the epoch); returns how many. */
  evictRows(table: RowTable, olderThan: number): Promise<number>;
}
