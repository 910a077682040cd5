import { logAdd2 } from '../../model/popularity.ts';
import {
  TRANSITIONS_STREAM,
  type CommitBatch,
  type CommitResult,
  type Row,
  type RowDelta,
  type RowEntry,
  type RowTable,
  type RowValue,
  type TransitionWrites,
} from '../../ports/index.ts';
import type { RowCommits } from '../composed-store.ts';
import { assertWritable } from '../row-checks.ts';
import { DEGREE_MEMBER, byRedisRank, transitionSums } from '../transitions.ts';
import type { MemoryContext } from './context.ts';
import { tableOf } from './model-state.ts';

const EMPTY = new Float32Array(0);

/**
 * Rows, offsets, counters and the item registry in memory. A commit runs synchronously inside
 * its promise, so it is atomic with respect to every other operation, as lua/commit.lua is on
 * Redis.
 */
export class MemoryRows implements RowCommits {
  readonly #ctx: MemoryContext;

  constructor(ctx: MemoryContext) {
    this.#ctx = ctx;
  }

  async getRows(table: RowTable, ids: readonly string[]): Promise<(Row | undefined)[]> {
    const rows = this.#ctx.state.rows.get(table);
    return ids.map((id) => {
      const row = rows?.get(id);
      return row === undefined ? undefined : { ...row, vector: row.vector.slice(), state: row.state.slice() };
    });
  }

  async commit(batch: CommitBatch): Promise<CommitResult> {
    assertWritable(batch);
    // Offsets are checked in order: a later advance of the same partition starts where the
    // earlier one of this write ends.
    const expected = new Map<string, number>();
    for (const advance of batch.offsets ?? []) {
      const key = `${advance.scope}\u0000${advance.partition}`;
      const stored = expected.has(key)
        ? expected.get(key)
        : this.#ctx.state.offsets.get(advance.scope)?.get(advance.partition);
      if (stored !== undefined && stored !== advance.fromOffset) {
        return {
          status: 'fenced',
          partition: advance.partition,
          storedOffset: this.#ctx.state.offsets.get(advance.scope)?.get(advance.partition) ?? stored,
        };
      }
      expected.set(key, advance.nextOffset);
    }
    this.#checkDimensions(batch);
    this.#ctx.dirty = true;
    for (const group of batch.puts ?? []) this.#applyPuts(group.table, group.rows);
    for (const group of batch.deltas ?? []) this.#applyDeltas(group.table, group.rows);
    for (const counter of batch.counters ?? []) {
      const fields = tableOf(this.#ctx.state.counters, counter.name);
      fields.set(counter.field, (fields.get(counter.field) ?? 0) + counter.by);
    }
    for (const { userId, items } of batch.history ?? []) {
      const list = [...(this.#ctx.state.histories.get(userId) ?? []), ...items];
      this.#ctx.state.histories.set(
        userId,
        list.slice(Math.max(0, list.length - this.#ctx.limits.historyLimit)),
      );
    }
    for (const { segment, itemId, by } of batch.popularity ?? []) {
      const scores = tableOf(this.#ctx.state.popularity, segment);
      scores.set(itemId, logAdd2(scores.get(itemId) ?? Number.NEGATIVE_INFINITY, by));
    }
    if (batch.transitions !== undefined) this.#applyTransitions(batch.transitions);
    if (batch.newItems !== undefined) {
      const registry = this.#registry(batch.newItems.registry);
      for (const id of batch.newItems.ids) {
        if (!registry.known.has(id)) {
          registry.known.add(id);
          registry.order.push(id);
        }
      }
    }
    if (batch.changedItems !== undefined && batch.changedItems.ids.length > 0) {
      this.#ctx.appendChanges(batch.changedItems.stream, batch.changedItems.ids);
    }
    for (const advance of batch.offsets ?? []) {
      tableOf(this.#ctx.state.offsets, advance.scope).set(advance.partition, advance.nextOffset);
    }
    return { status: 'committed' };
  }

  #applyTransitions({ limit, increments }: TransitionWrites): void {
    const sums = transitionSums(increments);
    for (const [itemId, added] of sums) {
      const list = tableOf(this.#ctx.state.transitions, itemId);
      for (const [member, by] of added) list.set(member, (list.get(member) ?? 0) + by);
      // The degree member counts in the set's size, as it does on Redis (lua/commit.lua).
      if (list.size > 2 * limit + 1) {
        const degree = list.get(DEGREE_MEMBER) ?? 0;
        list.delete(DEGREE_MEMBER);
        const kept = [...list].sort(byRedisRank).slice(0, limit);
        this.#ctx.state.transitions.set(itemId, new Map([...kept, [DEGREE_MEMBER, degree]]));
      }
    }
    if (sums.size > 0) this.#ctx.appendChanges(TRANSITIONS_STREAM, [...sums.keys()]);
  }

  async getOffsets(scope: string): Promise<ReadonlyMap<number, number>> {
    return new Map(this.#ctx.state.offsets.get(scope) ?? []);
  }

  async getCounters(name: string, fields: readonly string[]): Promise<number[]> {
    const counters = this.#ctx.state.counters.get(name);
    return fields.map((field) => counters?.get(field) ?? 0);
  }

  async getItemRegistry(registry: string, from: number): Promise<string[]> {
    return this.#ctx.state.registries.get(registry)?.order.slice(from) ?? [];
  }

  async evictRows(table: RowTable, olderThan: number): Promise<number> {
    const rows = this.#ctx.state.rows.get(table);
    if (rows === undefined) return 0;
    let evicted = 0;
    for (const [id, row] of rows) {
      if (row.updatedAt < olderThan) {
        rows.delete(id);
        evicted++;
        this.#ctx.dirty = true;
      }
    }
    return evicted;
  }

  #registry(name: string): { readonly order: string[]; readonly known: Set<string> } {
    let registry = this.#ctx.state.registries.get(name);
    if (registry === undefined)
      this.#ctx.state.registries.set(name, (registry = { order: [], known: new Set() }));
    return registry;
  }

  /** Deltas must match the shape of the rows they add to; checked before any write. */
  #checkDimensions(batch: CommitBatch): void {
    for (const group of batch.deltas ?? []) {
      const rows = this.#ctx.state.rows.get(group.table);
      for (const { id, value } of group.rows) {
        const current = rows?.get(id);
        const stateLength = value.state?.length ?? 0;
        if (
          current !== undefined &&
          (current.vector.length !== value.vector.length || current.state.length !== stateLength)
        ) {
          throw new RangeError(
            `DIMENSION_MISMATCH ${group.table}/${id} has ${current.vector.length}+${current.state.length} values, delta has ${value.vector.length}+${stateLength}`,
          );
        }
      }
    }
  }

  #applyPuts(table: RowTable, rows: readonly RowEntry<RowValue>[]): void {
    const target = tableOf(this.#ctx.state.rows, table);
    for (const { id, value } of rows) {
      target.set(id, {
        vector: value.vector.slice(),
        state: value.state?.slice() ?? EMPTY,
        bias: value.bias,
        count: value.count,
        version: (target.get(id)?.version ?? 0) + 1,
        updatedAt: value.updatedAt,
      });
    }
  }

  #applyDeltas(table: RowTable, deltas: readonly RowEntry<RowDelta>[]): void {
    const target = tableOf(this.#ctx.state.rows, table);
    for (const { id, value } of deltas) {
      const current = target.get(id);
      const vector = current?.vector.slice() ?? value.init?.slice() ?? new Float32Array(value.vector.length);
      const state = current?.state.slice() ?? new Float32Array(value.state?.length ?? 0);
      // Accumulate in float64 then round once, exactly as the Redis Lua script does.
      for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) + (value.vector[i] as number);
      if (value.state !== undefined)
        for (let i = 0; i < state.length; i++) state[i] = (state[i] as number) + (value.state[i] as number);
      target.set(id, {
        vector,
        state,
        bias: (current?.bias ?? 0) + value.bias,
        count: (current?.count ?? 0) + value.count,
        version: (current?.version ?? 0) + 1,
        updatedAt: Math.max(current?.updatedAt ?? 0, value.updatedAt),
      });
    }
  }
}
