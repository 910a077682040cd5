import type { EmbeddingTable } from '../../shared/model/embedding-table.ts';
import type { RowStore, Row, RowDelta, RowEntry, RowValue, TableRows } from '../../shared/ports/index.ts';

/**
 * Keeps one model table (the local cache, typed arrays) in step with its rows in the model store
 * (the truth).
 *
 * - `owned` rows (users: the topic is keyed by user, so one partition, one consumer, owns each)
 *   are loaded once after an assignment and written back whole (puts).
 * - `shared` rows (items, features, context) may be changed by other trainers at the same time:
 *   they are written as float64 deltas against the value last read or written (`base`), so
 *   concurrent changes add up, and they are re-read when older than the staleness bound.
 *
 * The optimizer state kept with a row is the row-wise Adagrad pair [accumulator, bias
 * accumulator] (empty with SGD).
 */
export type SyncMode = 'owned' | 'shared';

interface Base {
  vector: Float32Array;
  bias: number;
  count: number;
  accum: number;
  biasAccum: number;
}

export class TableSync {
  readonly table: EmbeddingTable;
  readonly storeTable: string;
  readonly mode: SyncMode;
  readonly #withState: boolean;
  /** Per local row: when it was read from the store (0: not valid, must be read). */
  #loadedAt = new Float64Array(1024);
  /** Per local row: 1 when the row is known to exist in the store (deltas then need no initial vector). */
  #inStore = new Uint8Array(1024);
  /** Per local row: the store's version as last read or written (0: not in the store). */
  #version = new Float64Array(1024);
  /**
   * Per local row: the generation of its latest change not yet written (0: none). Such a row is
   * never re-read from the store: that would throw away training the store does not have yet.
   */
  #changed = new Float64Array(1024);
  #generation = 0;
  readonly #base = new Map<number, Base>();
  /** Stale shared rows waiting for a background re-read, and whether one is in flight. */
  readonly #stale = new Set<number>();
  #refreshing = false;

  constructor(table: EmbeddingTable, mode: SyncMode, withState: boolean) {
    this.table = table;
    this.storeTable = table.name;
    this.mode = mode;
    this.#withState = withState;
  }

  /**
   * Makes sure the rows of `ids` hold the store's values: rows never read, invalidated, or (shared
   * rows) read longer ago than `maxAgeMs`. Rows missing in the store keep their deterministic
   * initial values. Returns the local indices, in the order of `ids`. `known`: rows read from the
   * store earlier (a prefetch), used for rows that still need reading; the others are read now.
   *
   * Stale shared rows are not waited for: they are re-read in the background (one read at a
   * time) and replaced when the answer comes, unless the row was trained meanwhile. Training
   * goes on with the cached values for that round trip; only rows never read hold a batch up.
   */
  async load(
    store: RowStore,
    ids: readonly string[],
    now: number,
    maxAgeMs: number,
    known?: ReadonlyMap<string, Row | undefined>,
  ): Promise<Int32Array> {
    // Rows created here already hold their deterministic initial values (ensure sets them).
    const created = this.table.size;
    const indices = Int32Array.from(ids, (id) => this.table.ensure(id));
    this.#fit();
    const wanted: number[] = [];
    const seen = new Set<number>();
    for (const index of indices) {
      if (seen.has(index)) continue;
      seen.add(index);
      const at = this.#loadedAt[index] as number;
      if (at === 0) wanted.push(index);
      else if (this.mode === 'shared' && now - at > maxAgeMs && this.#changed[index] === 0)
        this.#stale.add(index);
    }
    if (this.#stale.size > 0 && !this.#refreshing) void this.#refreshStale(store, now);
    if (wanted.length === 0) return indices;
    const unknown = known === undefined ? wanted : wanted.filter((i) => !known.has(this.table.idAt(i)));
    const read =
      unknown.length === 0
        ? []
        : await store.getRows(
            this.storeTable,
            unknown.map((i) => this.table.idAt(i)),
          );
    const fresh = new Map<number, Row | undefined>();
    unknown.forEach((index, k) => fresh.set(index, read[k]));
    wanted.forEach((index) =>
      this.#apply(
        index,
        fresh.has(index) ? fresh.get(index) : known?.get(this.table.idAt(index)),
        now,
        created,
      ),
    );
    return indices;
  }

  /**
   * Reads rows of `ids` that were never read, off the critical path (a cache warm-up): a row that
   * a batch read, trained or invalidated in the meantime keeps what it has.
   */
  async warm(store: RowStore, ids: readonly string[], now: number): Promise<void> {
    const wanted = ids.filter((id) => {
      const index = this.table.indexOf(id);
      return index < 0 || index >= this.#loadedAt.length || this.#loadedAt[index] === 0;
    });
    if (wanted.length === 0) return;
    const rows = await store.getRows(this.storeTable, wanted);
    const created = this.table.size;
    wanted.forEach((id, k) => {
      const index = this.table.ensure(id);
      this.#fit();
      if (this.#loadedAt[index] !== 0 || this.#changed[index] !== 0) return;
      this.#apply(index, rows[k], now, created);
    });
  }

  /** Re-reads stale shared rows; a row trained (or re-read) since the read began keeps its values. */
  async #refreshStale(store: RowStore, now: number): Promise<void> {
    this.#refreshing = true;
    try {
      const indices = [...this.#stale];
      this.#stale.clear();
      const rows = await store.getRows(
        this.storeTable,
        indices.map((i) => this.table.idAt(i)),
      );
      indices.forEach((index, k) => {
        if (this.#changed[index] !== 0 || (this.#loadedAt[index] as number) > now) return;
        this.#apply(index, rows[k], now, this.table.size);
      });
    } catch {
      // Not applied: the rows are read again when next found stale.
    } finally {
      this.#refreshing = false;
    }
  }

  #apply(index: number, row: Row | undefined, now: number, created: number): void {
    this.#inStore[index] = row === undefined ? 0 : 1;
    this.#version[index] = row?.version ?? 0;
    if (row !== undefined) {
      this.table.row(index).set(row.vector);
      this.table.biases[index] = row.bias;
      this.table.counts[index] = row.count;
      if (this.#withState) {
        this.table.accum[index] = row.state[0] ?? 0;
        this.table.biasAccum[index] = row.state[1] ?? 0;
      }
    } else {
      // Not in the store: the deterministic initial row (what every process would create).
      if (index < created) this.table.row(index).set(this.table.initialRow(this.table.idAt(index)));
      this.table.biases[index] = 0;
      this.table.counts[index] = 0;
      if (this.#withState) {
        this.table.accum[index] = 0;
        this.table.biasAccum[index] = 0;
      }
    }
    this.#loadedAt[index] = now;
    if (this.mode === 'shared') this.#base.set(index, this.#snapshot(index));
  }

  /**
   * Which of `ids` a `load` would have to wait for (never read, or invalidated), for reading
   * them ahead of time.
   */
  unloaded(ids: Iterable<string>): string[] {
    const out: string[] = [];
    for (const id of ids) {
      const index = this.table.indexOf(id);
      if (index < 0 || index >= this.#loadedAt.length || this.#loadedAt[index] === 0) out.push(id);
    }
    return out;
  }

  /** Rows trained locally: they hold changes the store does not have until they are written. */
  markChanged(indices: Iterable<number>): void {
    this.#fit();
    const generation = ++this.#generation;
    for (const index of indices) this.#changed[index] = generation;
  }

  /** Rows written locally but not in the store any more (a failed or fenced batch): read again. */
  invalidate(indices: Iterable<number>): void {
    for (const index of indices) {
      this.#loadedAt[index] = 0;
      this.#changed[index] = 0;
      this.#base.delete(index);
    }
  }

  invalidateAll(): void {
    this.#loadedAt.fill(0);
    this.#inStore.fill(0);
    this.#version.fill(0);
    this.#changed.fill(0);
    this.#base.clear();
  }

  /**
   * The writes that carry the local changes of `indices` to the store, and what to record once
   * they are written: the values written become the base of later deltas. (Training may go on
   * while the write is in flight; the values it reaches meanwhile go with the next write.)
   */
  writes(
    indices: readonly number[],
    now: number,
  ): { puts?: TableRows<RowValue>; deltas?: TableRows<RowDelta>; done: () => void } {
    if (indices.length === 0) return { done: () => undefined };
    const snapshots = indices.map((index) => this.#snapshot(index));
    const generations = indices.map((index) => this.#changed[index] as number);
    const done = () => {
      indices.forEach((index, k) => {
        // Unless trained again while the write was in flight, the row now matches the store.
        if (this.#changed[index] === generations[k]) this.#changed[index] = 0;
        this.#inStore[index] = 1;
        // One write per row per commit. Only our own writes are counted, which is all the
        // optimistic path needs: a wrong guess just falls back to adding the delta.
        this.#version[index] = (this.#version[index] as number) + 1;
        if (this.mode === 'shared') this.#base.set(index, snapshots[k] as Base);
      });
    };
    if (this.mode === 'owned') {
      const rows: RowEntry<RowValue>[] = indices.map((index, k) => {
        const snap = snapshots[k] as Base;
        return {
          id: this.table.idAt(index),
          value: {
            vector: snap.vector,
            state: this.#stateOf(snap),
            bias: snap.bias,
            count: snap.count,
            updatedAt: now,
          },
        };
      });
      return { puts: { table: this.storeTable, rows }, done };
    }
    const rows: RowEntry<RowDelta>[] = indices.map((index, k) => {
      const snap = snapshots[k] as Base;
      const base = this.#base.get(index) ?? this.#initial(index);
      const vector = new Float64Array(snap.vector.length);
      for (let d = 0; d < vector.length; d++)
        vector[d] = (snap.vector[d] as number) - (base.vector[d] as number);
      const state = this.#withState
        ? Float64Array.of(snap.accum - base.accum, snap.biasAccum - base.biasAccum)
        : undefined;
      return {
        id: this.table.idAt(index),
        value: {
          vector,
          ...(state === undefined ? {} : { state }),
          bias: snap.bias - base.bias,
          count: snap.count - base.count,
          updatedAt: now,
          ...(this.#inStore[index] === 1 ? {} : { init: base.vector }),
          // When nobody else wrote the row since, the store writes the final values as they are.
          expectedVersion: this.#version[index] as number,
          full: { vector: snap.vector, state: this.#stateOf(snap), bias: snap.bias, count: snap.count },
        },
      };
    });
    return { deltas: { table: this.storeTable, rows }, done };
  }

  #snapshot(index: number): Base {
    return {
      vector: this.table.row(index).slice(),
      bias: this.table.biases[index] as number,
      count: this.table.counts[index] as number,
      accum: this.#withState ? (this.table.accum[index] as number) : 0,
      biasAccum: this.#withState ? (this.table.biasAccum[index] as number) : 0,
    };
  }

  #initial(index: number): Base {
    return {
      vector: this.table.initialRow(this.table.idAt(index)),
      bias: 0,
      count: 0,
      accum: 0,
      biasAccum: 0,
    };
  }

  #stateOf(snap: Base): Float32Array {
    return this.#withState ? Float32Array.of(snap.accum, snap.biasAccum) : new Float32Array(0);
  }

  #fit(): void {
    if (this.#loadedAt.length >= this.table.size) return;
    let capacity = this.#loadedAt.length;
    while (capacity < this.table.size) capacity *= 2;
    const grown = new Float64Array(capacity);
    grown.set(this.#loadedAt);
    this.#loadedAt = grown;
    const inStore = new Uint8Array(capacity);
    inStore.set(this.#inStore);
    this.#inStore = inStore;
    const version = new Float64Array(capacity);
    version.set(this.#version);
    this.#version = version;
    const changed = new Float64Array(capacity);
    changed.set(this.#changed);
    this.#changed = changed;
  }
}
