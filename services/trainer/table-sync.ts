import type { EmbeddingTable } from '../../shared/model/embedding-table.ts';
import type { ModelStore, RowDelta, RowEntry, RowValue, TableRows } from '../../shared/ports/index.ts';

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
  readonly #base = new Map<number, Base>();

  constructor(table: EmbeddingTable, mode: SyncMode, withState: boolean) {
    this.table = table;
    this.storeTable = table.name;
    this.mode = mode;
    this.#withState = withState;
  }

  /**
   * Makes sure the rows of `ids` hold the store's values: rows never read, invalidated, or (shared
   * rows) read longer ago than `maxAgeMs`. Rows missing in the store keep their deterministic
   * initial values. Returns the local indices, in the order of `ids`.
   */
  async load(store: ModelStore, ids: readonly string[], now: number, maxAgeMs: number): Promise<Int32Array> {
    const indices = Int32Array.from(ids, (id) => this.table.ensure(id));
    this.#fit();
    const wanted: number[] = [];
    const seen = new Set<number>();
    for (const index of indices) {
      if (seen.has(index)) continue;
      seen.add(index);
      const at = this.#loadedAt[index] as number;
      if (at === 0 || (this.mode === 'shared' && now - at > maxAgeMs)) wanted.push(index);
    }
    if (wanted.length === 0) return indices;
    const rows = await store.getRows(
      this.storeTable,
      wanted.map((i) => this.table.idAt(i)),
    );
    wanted.forEach((index, k) => {
      const row = rows[k];
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
        this.table.row(index).set(this.table.initialRow(this.table.idAt(index)));
        this.table.biases[index] = 0;
        this.table.counts[index] = 0;
        if (this.#withState) {
          this.table.accum[index] = 0;
          this.table.biasAccum[index] = 0;
        }
      }
      this.#loadedAt[index] = now;
      if (this.mode === 'shared') this.#base.set(index, this.#snapshot(index));
    });
    return indices;
  }

  /** Rows written locally but not in the store any more (a failed or fenced batch): read again. */
  invalidate(indices: Iterable<number>): void {
    for (const index of indices) {
      this.#loadedAt[index] = 0;
      this.#base.delete(index);
    }
  }

  invalidateAll(): void {
    this.#loadedAt.fill(0);
    this.#base.clear();
  }

  /** The writes that carry the local changes of `indices` to the store. */
  writes(
    indices: readonly number[],
    now: number,
  ): { puts?: TableRows<RowValue>; deltas?: TableRows<RowDelta> } {
    if (indices.length === 0) return {};
    if (this.mode === 'owned') {
      const rows: RowEntry<RowValue>[] = indices.map((index) => ({
        id: this.table.idAt(index),
        value: {
          vector: this.table.row(index).slice(),
          state: this.#state(index),
          bias: this.table.biases[index] as number,
          count: this.table.counts[index] as number,
          updatedAt: now,
        },
      }));
      return { puts: { table: this.storeTable, rows } };
    }
    const rows: RowEntry<RowDelta>[] = [];
    for (const index of indices) {
      const base = this.#base.get(index) ?? this.#initial(index);
      const row = this.table.row(index);
      const vector = new Float64Array(row.length);
      for (let d = 0; d < row.length; d++) vector[d] = (row[d] as number) - (base.vector[d] as number);
      const state = this.#withState
        ? Float64Array.of(
            (this.table.accum[index] as number) - base.accum,
            (this.table.biasAccum[index] as number) - base.biasAccum,
          )
        : undefined;
      rows.push({
        id: this.table.idAt(index),
        value: {
          vector,
          ...(state === undefined ? {} : { state }),
          bias: (this.table.biases[index] as number) - base.bias,
          count: (this.table.counts[index] as number) - base.count,
          updatedAt: now,
          init: base.vector,
        },
      });
    }
    return { deltas: { table: this.storeTable, rows } };
  }

  /** After a successful commit: the written values are the new base of shared rows. */
  committed(indices: readonly number[]): void {
    if (this.mode !== 'shared') return;
    for (const index of indices) this.#base.set(index, this.#snapshot(index));
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

  #state(index: number): Float32Array {
    return this.#withState
      ? Float32Array.of(this.table.accum[index] as number, this.table.biasAccum[index] as number)
      : new Float32Array(0);
  }

  #fit(): void {
    if (this.#loadedAt.length >= this.table.size) return;
    let capacity = this.#loadedAt.length;
    while (capacity < this.table.size) capacity *= 2;
    const grown = new Float64Array(capacity);
    grown.set(this.#loadedAt);
    this.#loadedAt = grown;
  }
}
