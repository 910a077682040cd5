import type {
  CommitBatch,
  CommitResult,
  ModelStore,
  Row,
  RowDelta,
  RowEntry,
  RowTable,
  RowValue,
} from '../../ports/index.ts';
import { assertWritable } from '../row-checks.ts';
import { createMemoryModelState, tableOf, type MemoryModelState } from './model-state.ts';
import { saveModelState } from './model-state-file.ts';

export interface MemoryModelStoreOptions {
  /** Shared state; a fresh one when omitted. */
  readonly state?: MemoryModelState;
  /** When set, close() (and persist()) write the state here. */
  readonly file?: string;
}

/**
 * The embedded model store: rows, offsets and counters in memory, optionally persisted to a file.
 * Every operation completes synchronously inside its promise, so each is atomic with respect to
 * the others, as the Redis store's Lua scripts are.
 */
export class MemoryModelStore implements ModelStore {
  readonly kind = 'memory' as const;
  readonly state: MemoryModelState;
  readonly #file: string | undefined;
  #closed = false;

  constructor(options: MemoryModelStoreOptions = {}) {
    this.state = options.state ?? createMemoryModelState();
    this.#file = options.file;
  }

  async getRows(table: RowTable, ids: readonly string[]): Promise<(Row | undefined)[]> {
    const rows = this.state.rows.get(table);
    return ids.map((id) => {
      const row = rows?.get(id);
      return row === undefined ? undefined : { ...row, vector: row.vector.slice() };
    });
  }

  async putRows(table: RowTable, rows: readonly RowEntry<RowValue>[]): Promise<void> {
    await this.commit({ puts: [{ table, rows }] });
  }

  async addDeltas(table: RowTable, deltas: readonly RowEntry<RowDelta>[]): Promise<void> {
    await this.commit({ deltas: [{ table, rows: deltas }] });
  }

  async commit(batch: CommitBatch): Promise<CommitResult> {
    assertWritable(batch);
    this.#checkDimensions(batch);
    if (batch.offset !== undefined) {
      const offsets = tableOf(this.state.offsets, batch.offset.scope);
      const stored = offsets.get(batch.offset.partition);
      if (stored !== undefined && stored !== batch.offset.fromOffset) {
        return { status: 'fenced', storedOffset: stored };
      }
    }
    for (const group of batch.puts ?? []) this.#applyPuts(group.table, group.rows);
    for (const group of batch.deltas ?? []) this.#applyDeltas(group.table, group.rows);
    for (const counter of batch.counters ?? []) {
      const fields = tableOf(this.state.counters, counter.name);
      fields.set(counter.field, (fields.get(counter.field) ?? 0) + counter.by);
    }
    if (batch.offset !== undefined) {
      tableOf(this.state.offsets, batch.offset.scope).set(batch.offset.partition, batch.offset.nextOffset);
    }
    return { status: 'committed' };
  }

  async getOffsets(scope: string): Promise<ReadonlyMap<number, number>> {
    return new Map(this.state.offsets.get(scope) ?? []);
  }

  async getCounters(name: string, fields: readonly string[]): Promise<number[]> {
    const counters = this.state.counters.get(name);
    return fields.map((field) => counters?.get(field) ?? 0);
  }

  async ping(): Promise<boolean> {
    return !this.#closed;
  }

  /** Writes the state to the configured file now (no-op without a file). */
  persist(): void {
    if (this.#file !== undefined) saveModelState(this.state, this.#file);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.persist();
    this.#closed = true;
  }

  #applyPuts(table: RowTable, rows: readonly RowEntry<RowValue>[]): void {
    const target = tableOf(this.state.rows, table);
    for (const { id, value } of rows) {
      const version = (target.get(id)?.version ?? 0) + 1;
      target.set(id, {
        vector: value.vector.slice(),
        bias: value.bias,
        count: value.count,
        version,
        updatedAt: value.updatedAt,
      });
    }
  }

  /** Deltas must match the dimension of the rows they add to; checked before any write. */
  #checkDimensions(batch: CommitBatch): void {
    for (const group of batch.deltas ?? []) {
      const rows = this.state.rows.get(group.table);
      for (const { id, value } of group.rows) {
        const current = rows?.get(id);
        if (current !== undefined && current.vector.length !== value.vector.length) {
          throw new RangeError(
            `DIMENSION_MISMATCH ${group.table}/${id} has ${current.vector.length} dimensions, delta has ${value.vector.length}`,
          );
        }
      }
    }
  }

  #applyDeltas(table: RowTable, deltas: readonly RowEntry<RowDelta>[]): void {
    const target = tableOf(this.state.rows, table);
    for (const { id, value } of deltas) {
      const current = target.get(id);
      const vector = current?.vector.slice() ?? value.init?.slice() ?? new Float32Array(value.vector.length);
      // Accumulate in float64 then round once, exactly as the Redis Lua script does.
      for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) + (value.vector[i] as number);
      target.set(id, {
        vector,
        bias: (current?.bias ?? 0) + value.bias,
        count: (current?.count ?? 0) + value.count,
        version: (current?.version ?? 0) + 1,
        updatedAt: Math.max(current?.updatedAt ?? 0, value.updatedAt),
      });
    }
  }
}
