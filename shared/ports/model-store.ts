import { MODEL_NAMES, MODELS } from '../model/registry.ts';

/**
 * The model store: embedding rows and the consumed offsets they reflect (Redis, or the embedded
 * in-memory store). Rows are sparse: each training step reads the rows it needs and writes back
 * only those. Offsets are written in the same atomic step as the rows (effectively-once).
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

/** An item's transition list as stored: its degree and its neighbours, strongest first. */
export interface TransitionList {
  readonly degree: number;
  readonly neighbors: readonly { readonly itemId: string; readonly weight: number }[];
}

/** The change stream of the items whose transition lists changed (serving follows it). */
export const TRANSITIONS_STREAM = 'transitions';

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

/** One entry of the item change stream. */
export interface ItemChanges {
  /** Opaque, increasing position; pass it back to read what follows. */
  readonly id: string;
  readonly items: readonly string[];
}

/** A catalog record as stored (the schemas' ItemRecord / UserRecord, validated before). */
export type CatalogRecord = Readonly<Record<string, unknown>>;

/**
 * One piece of a store's state, as `recsys export` writes it (one JSON line each) and `recsys
 * import` reads it back, into the same or the other adapter. Row vectors and optimizer state are
 * base64 of little-endian float32 (exact). Change streams are not part of a snapshot: they are a
 * notification channel, and readers reload everything after an import.
 */
export type SnapshotEntry =
  | {
      readonly kind: 'row';
      readonly table: RowTable;
      readonly id: string;
      readonly vector: string;
      readonly state: string;
      readonly bias: number;
      readonly count: number;
      readonly version: number;
      readonly updatedAt: number;
    }
  | { readonly kind: 'offsets'; readonly scope: string; readonly offsets: Readonly<Record<string, number>> }
  | { readonly kind: 'counter'; readonly name: string; readonly fields: Readonly<Record<string, number>> }
  | { readonly kind: 'history'; readonly userId: string; readonly items: readonly string[] }
  | { readonly kind: 'registry'; readonly name: string; readonly ids: readonly string[] }
  | {
      readonly kind: 'popularity';
      readonly segment: string;
      readonly scores: Readonly<Record<string, number>>;
    }
  | {
      readonly kind: 'transitions';
      readonly itemId: string;
      readonly degree: number;
      readonly neighbors: Readonly<Record<string, number>>;
    }
  | { readonly kind: 'item'; readonly id: string; readonly record: CatalogRecord }
  | { readonly kind: 'user'; readonly id: string; readonly record: CatalogRecord };

/** Every row table the models write (what a snapshot exports). */
export const MODEL_TABLES: readonly RowTable[] = MODEL_NAMES.flatMap((name) => MODELS[name].tables);

/** A row as a snapshot entry. */
export function rowEntry(table: RowTable, id: string, row: Row): SnapshotEntry {
  return {
    kind: 'row',
    table,
    id,
    vector: floatsToBase64(row.vector),
    state: floatsToBase64(row.state),
    bias: row.bias,
    count: row.count,
    version: row.version,
    updatedAt: row.updatedAt,
  };
}

/** The row a snapshot entry holds. */
export function rowOf(entry: Extract<SnapshotEntry, { kind: 'row' }>): Row {
  return {
    vector: floatsFromBase64(entry.vector),
    state: floatsFromBase64(entry.state),
    bias: entry.bias,
    count: entry.count,
    version: entry.version,
    updatedAt: entry.updatedAt,
  };
}

/** Float32 values as base64 of their little-endian bytes (snapshots). */
export function floatsToBase64(values: Float32Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

export function floatsFromBase64(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length % 4 !== 0) throw new RangeError('a float32 vector must be a multiple of 4 bytes');
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(4 * i);
  return out;
}

export type CommitResult =
  | { readonly status: 'committed' }
  /** A batch did not start at the stored offset of its partition: nothing was written. */
  | { readonly status: 'fenced'; readonly partition: number; readonly storedOffset: number };

/** A user's stored state as one read returns it (ModelStore.getUserState). */
export interface UserSnapshot {
  readonly rows: readonly (Row | undefined)[];
  readonly history: readonly string[];
  readonly record: CatalogRecord | undefined;
}

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
  /** Recent items of users (oldest first), up to the store's history limit; [] for unknown users. */
  getHistories(userIds: readonly string[]): Promise<string[][]>;
  /** Item ids of a registry in registration order, from position `from`. */
  getItemRegistry(registry: string, from: number): Promise<string[]>;
  /** The `k` best items of a popularity segment with their (landmark-scaled) scores. */
  getPopular(segment: string, k: number): Promise<{ itemId: string; score: number }[]>;
  /** Transition lists of items (undefined: none stored), in the order of `itemIds`. */
  getTransitions(itemIds: readonly string[]): Promise<(TransitionList | undefined)[]>;
  /** Entries of a change stream after position `after` ('0' for the start), at most `count`. */
  readItemChanges(stream: string, after: string, count: number): Promise<ItemChanges[]>;
  /** Deletes rows of a table not written since `olderThan` (ms since the epoch); returns how many. */
  evictRows(table: RowTable, olderThan: number): Promise<number>;
  /** Catalog: item and user records with their features. Item writes append to CATALOG_STREAM. */
  putItems(records: readonly { id: string; record: CatalogRecord }[]): Promise<void>;
  getItems(ids: readonly string[]): Promise<(CatalogRecord | undefined)[]>;
  deleteItem(id: string): Promise<boolean>;
  /** All catalog item ids (for building serving's in-memory indexes). */
  listItemIds(): Promise<string[]>;
  putUsers(records: readonly { id: string; record: CatalogRecord }[]): Promise<void>;
  getUsers(ids: readonly string[]): Promise<(CatalogRecord | undefined)[]>;
  /**
   * What a request needs of one user in one read: the user's rows of `tables` (in that order,
   * `undefined` when missing), recent history (oldest first) and catalog record. The same as
   * getRows per table, getHistories and getUsers, in one round trip and one command.
   */
  getUserState(userId: string, tables: readonly RowTable[]): Promise<UserSnapshot>;
  /** True when the store answers. */
  ping(): Promise<boolean>;
  /** Everything in the store for these row tables and all other state, entry by entry (export). */
  snapshot(tables: readonly RowTable[]): AsyncIterable<SnapshotEntry>;
  /**
   * Writes snapshot entries as they are (import): rows with their versions, counters and offsets
   * set (not added), histories and registries replaced. Meant for an empty store.
   */
  restore(entries: readonly SnapshotEntry[]): Promise<void>;
  close(): Promise<void>;
}

/** Limits the store applies (the same for every adapter). */
export interface ModelStoreLimits {
  /** Items kept per user history. */
  readonly historyLimit: number;
  /** Entries kept in the item change stream (approximately, on Redis). */
  readonly changeStreamLimit: number;
}

/**
 * The change stream that catalog writes (putItems, deleteItem) append the item ids to, in the
 * same atomic step: every serving instance follows it to apply catalog changes.
 */
export const CATALOG_STREAM = 'catalog';

export const DEFAULT_STORE_LIMITS: ModelStoreLimits = { historyLimit: 100, changeStreamLimit: 100_000 };
