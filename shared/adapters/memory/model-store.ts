import { logAdd2 } from '../../model/popularity.ts';
import {
  CATALOG_STREAM,
  DEFAULT_STORE_LIMITS,
  TRANSITIONS_STREAM,
  rowEntry,
  rowOf,
  type CatalogRecord,
  type CommitBatch,
  type CommitResult,
  type ItemChanges,
  type ModelStore,
  type ModelStoreLimits,
  type Row,
  type RowDelta,
  type RowEntry,
  type RowTable,
  type RowValue,
  type SnapshotEntry,
  type TransitionList,
  type TransitionWrites,
  type UserSnapshot,
} from '../../ports/index.ts';
import { assertWritable } from '../row-checks.ts';
import { DEGREE_MEMBER, byRedisRank, transitionListOf, transitionSums } from '../transitions.ts';
import { createMemoryModelState, tableOf, type MemoryModelState } from './model-state.ts';
import { saveModelState } from './model-state-file.ts';

export interface MemoryModelStoreOptions {
  /** Shared state; a fresh one when omitted. */
  readonly state?: MemoryModelState;
  /** When set, close() (and persist()) write the state here. */
  readonly file?: string;
  /**
   * With a file: also save every this many milliseconds when something changed (0: only on
   * close), so a crash loses at most that much work. The trainer replays the rest from the event
   * log, since the saved offsets are consistent with the saved rows.
   */
  readonly persistIntervalMs?: number;
  readonly limits?: ModelStoreLimits;
}

const EMPTY = new Float32Array(0);

/**
 * The embedded model store: rows, offsets, counters, histories, popularity, the item registry,
 * the change stream and the catalog in memory, optionally persisted to a file. Every operation
 * completes synchronously inside its promise, so each is atomic with respect to the others, as
 * the Redis store's Lua scripts are.
 */
export class MemoryModelStore implements ModelStore {
  readonly kind = 'memory' as const;
  readonly state: MemoryModelState;
  readonly #file: string | undefined;
  readonly #limits: ModelStoreLimits;
  #closed = false;
  #dirty = false;
  readonly #autosave: NodeJS.Timeout | undefined;

  constructor(options: MemoryModelStoreOptions = {}) {
    this.state = options.state ?? createMemoryModelState();
    this.#file = options.file;
    this.#limits = options.limits ?? DEFAULT_STORE_LIMITS;
    const every = options.persistIntervalMs ?? 0;
    if (this.#file !== undefined && every > 0) {
      this.#autosave = setInterval(() => {
        if (this.#dirty) this.persist();
      }, every);
      this.#autosave.unref();
    }
  }

  async getRows(table: RowTable, ids: readonly string[]): Promise<(Row | undefined)[]> {
    const rows = this.state.rows.get(table);
    return ids.map((id) => {
      const row = rows?.get(id);
      return row === undefined ? undefined : { ...row, vector: row.vector.slice(), state: row.state.slice() };
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
    // Offsets are checked in order: a later advance of the same partition starts where the
    // earlier one of this write ends.
    const expected = new Map<string, number>();
    for (const advance of batch.offsets ?? []) {
      const key = `${advance.scope}\u0000${advance.partition}`;
      const stored = expected.has(key)
        ? expected.get(key)
        : this.state.offsets.get(advance.scope)?.get(advance.partition);
      if (stored !== undefined && stored !== advance.fromOffset) {
        return {
          status: 'fenced',
          partition: advance.partition,
          storedOffset: this.state.offsets.get(advance.scope)?.get(advance.partition) ?? stored,
        };
      }
      expected.set(key, advance.nextOffset);
    }
    this.#checkDimensions(batch);
    this.#dirty = true;
    for (const group of batch.puts ?? []) this.#applyPuts(group.table, group.rows);
    for (const group of batch.deltas ?? []) this.#applyDeltas(group.table, group.rows);
    for (const counter of batch.counters ?? []) {
      const fields = tableOf(this.state.counters, counter.name);
      fields.set(counter.field, (fields.get(counter.field) ?? 0) + counter.by);
    }
    for (const { userId, items } of batch.history ?? []) {
      const list = [...(this.state.histories.get(userId) ?? []), ...items];
      this.state.histories.set(userId, list.slice(Math.max(0, list.length - this.#limits.historyLimit)));
    }
    for (const { segment, itemId, by } of batch.popularity ?? []) {
      const scores = tableOf(this.state.popularity, segment);
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
      this.#appendChanges(batch.changedItems.stream, batch.changedItems.ids);
    }
    for (const advance of batch.offsets ?? []) {
      tableOf(this.state.offsets, advance.scope).set(advance.partition, advance.nextOffset);
    }
    return { status: 'committed' };
  }

  #applyTransitions({ limit, increments }: TransitionWrites): void {
    const sums = transitionSums(increments);
    for (const [itemId, added] of sums) {
      const list = tableOf(this.state.transitions, itemId);
      for (const [member, by] of added) list.set(member, (list.get(member) ?? 0) + by);
      // The degree member counts in the set's size, as it does on Redis (commit.lua).
      if (list.size > 2 * limit + 1) {
        const degree = list.get(DEGREE_MEMBER) ?? 0;
        list.delete(DEGREE_MEMBER);
        const kept = [...list].sort(byRedisRank).slice(0, limit);
        this.state.transitions.set(itemId, new Map([...kept, [DEGREE_MEMBER, degree]]));
      }
    }
    if (sums.size > 0) this.#appendChanges(TRANSITIONS_STREAM, [...sums.keys()]);
  }

  async getTransitions(itemIds: readonly string[]): Promise<(TransitionList | undefined)[]> {
    return itemIds.map((id) => {
      const list = this.state.transitions.get(id);
      return list === undefined ? undefined : transitionListOf(list);
    });
  }

  async getOffsets(scope: string): Promise<ReadonlyMap<number, number>> {
    return new Map(this.state.offsets.get(scope) ?? []);
  }

  async getCounters(name: string, fields: readonly string[]): Promise<number[]> {
    const counters = this.state.counters.get(name);
    return fields.map((field) => counters?.get(field) ?? 0);
  }

  async getHistories(userIds: readonly string[]): Promise<string[][]> {
    return userIds.map((id) => [...(this.state.histories.get(id) ?? [])]);
  }

  async getItemRegistry(registry: string, from: number): Promise<string[]> {
    return this.state.registries.get(registry)?.order.slice(from) ?? [];
  }

  async getPopular(segment: string, k: number): Promise<{ itemId: string; score: number }[]> {
    const scores = this.state.popularity.get(segment);
    if (scores === undefined) return [];
    return [...scores]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0))
      .slice(0, k)
      .map(([itemId, score]) => ({ itemId, score }));
  }

  async readItemChanges(stream: string, after: string, count: number): Promise<ItemChanges[]> {
    const afterSequence = Number(after.split('-')[0] ?? 0);
    const entries = this.state.streams.get(stream)?.entries ?? [];
    // Entries are in sequence order: the first one after `after` by binary search.
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Number((entries[mid] as { id: string }).id.split('-')[0]) > afterSequence) hi = mid;
      else lo = mid + 1;
    }
    return entries.slice(lo, lo + count);
  }

  async evictRows(table: RowTable, olderThan: number): Promise<number> {
    const rows = this.state.rows.get(table);
    if (rows === undefined) return 0;
    let evicted = 0;
    for (const [id, row] of rows) {
      if (row.updatedAt < olderThan) {
        rows.delete(id);
        evicted++;
        this.#dirty = true;
      }
    }
    return evicted;
  }

  async putItems(records: readonly { id: string; record: CatalogRecord }[]): Promise<void> {
    for (const { id, record } of records) this.state.items.set(id, structuredClone(record));
    this.#dirty = true;
    if (records.length > 0)
      this.#appendChanges(
        CATALOG_STREAM,
        records.map((r) => r.id),
      );
  }

  #appendChanges(stream: string, ids: readonly string[]): void {
    let changes = this.state.streams.get(stream);
    if (changes === undefined) this.state.streams.set(stream, (changes = { entries: [], sequence: 0 }));
    changes.sequence++;
    changes.entries.push({ id: `${changes.sequence}-0`, items: [...ids] });
    const excess = changes.entries.length - this.#limits.changeStreamLimit;
    if (excess > 0) changes.entries.splice(0, excess);
  }

  async getItems(ids: readonly string[]): Promise<(CatalogRecord | undefined)[]> {
    return ids.map((id) => {
      const record = this.state.items.get(id);
      return record === undefined ? undefined : structuredClone(record);
    });
  }

  async deleteItem(id: string): Promise<boolean> {
    const deleted = this.state.items.delete(id);
    this.#dirty ||= deleted;
    if (deleted) this.#appendChanges(CATALOG_STREAM, [id]);
    return deleted;
  }

  async listItemIds(): Promise<string[]> {
    return [...this.state.items.keys()];
  }

  async putUsers(records: readonly { id: string; record: CatalogRecord }[]): Promise<void> {
    for (const { id, record } of records) this.state.users.set(id, structuredClone(record));
    this.#dirty = true;
  }

  async getUsers(ids: readonly string[]): Promise<(CatalogRecord | undefined)[]> {
    return ids.map((id) => {
      const record = this.state.users.get(id);
      return record === undefined ? undefined : structuredClone(record);
    });
  }

  async getUserState(userId: string, tables: readonly RowTable[]): Promise<UserSnapshot> {
    const rows = await Promise.all(tables.map(async (table) => (await this.getRows(table, [userId]))[0]));
    const [history] = await this.getHistories([userId]);
    const [record] = await this.getUsers([userId]);
    return { rows, history: history ?? [], record };
  }

  async ping(): Promise<boolean> {
    return !this.#closed;
  }

  async *snapshot(tables: readonly RowTable[]): AsyncIterable<SnapshotEntry> {
    const st = this.state;
    for (const table of tables)
      for (const [id, row] of st.rows.get(table) ?? []) yield rowEntry(table, id, row);
    for (const [scope, offsets] of st.offsets)
      yield {
        kind: 'offsets',
        scope,
        offsets: Object.fromEntries([...offsets].map(([p, o]) => [String(p), o])),
      };
    for (const [name, fields] of st.counters)
      yield { kind: 'counter', name, fields: Object.fromEntries(fields) };
    for (const [userId, items] of st.histories) yield { kind: 'history', userId, items: [...items] };
    for (const [name, registry] of st.registries) yield { kind: 'registry', name, ids: [...registry.order] };
    for (const [segment, scores] of st.popularity)
      yield { kind: 'popularity', segment, scores: Object.fromEntries(scores) };
    for (const [itemId, members] of st.transitions) {
      const { [DEGREE_MEMBER]: degree = 0, ...neighbors } = Object.fromEntries(members);
      yield { kind: 'transitions', itemId, degree, neighbors };
    }
    for (const [id, record] of st.items) yield { kind: 'item', id, record: structuredClone(record) };
    for (const [id, record] of st.users) yield { kind: 'user', id, record: structuredClone(record) };
  }

  async restore(entries: readonly SnapshotEntry[]): Promise<void> {
    const st = this.state;
    const items: string[] = [];
    for (const e of entries) {
      switch (e.kind) {
        case 'row':
          tableOf(st.rows, e.table).set(e.id, rowOf(e));
          break;
        case 'offsets':
          for (const [p, o] of Object.entries(e.offsets)) tableOf(st.offsets, e.scope).set(Number(p), o);
          break;
        case 'counter':
          for (const [field, n] of Object.entries(e.fields)) tableOf(st.counters, e.name).set(field, n);
          break;
        case 'history':
          st.histories.set(e.userId, [...e.items]);
          break;
        case 'registry':
          st.registries.set(e.name, { order: [...e.ids], known: new Set(e.ids) });
          break;
        case 'popularity':
          for (const [itemId, score] of Object.entries(e.scores))
            tableOf(st.popularity, e.segment).set(itemId, score);
          break;
        case 'transitions':
          st.transitions.set(e.itemId, new Map([...Object.entries(e.neighbors), [DEGREE_MEMBER, e.degree]]));
          break;
        case 'item':
          st.items.set(e.id, structuredClone(e.record));
          items.push(e.id);
          break;
        case 'user':
          st.users.set(e.id, structuredClone(e.record));
          break;
      }
    }
    if (items.length > 0) this.#appendChanges(CATALOG_STREAM, items);
    this.#dirty = true;
  }

  /** Writes the state to the configured file now (no-op without a file). */
  persist(): void {
    if (this.#file === undefined) return;
    this.#dirty = false;
    saveModelState(this.state, this.#file);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#autosave);
    this.persist();
    this.#closed = true;
  }

  #registry(name: string): { readonly order: string[]; readonly known: Set<string> } {
    let registry = this.state.registries.get(name);
    if (registry === undefined) this.state.registries.set(name, (registry = { order: [], known: new Set() }));
    return registry;
  }

  /** Deltas must match the shape of the rows they add to; checked before any write. */
  #checkDimensions(batch: CommitBatch): void {
    for (const group of batch.deltas ?? []) {
      const rows = this.state.rows.get(group.table);
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
    const target = tableOf(this.state.rows, table);
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
    const target = tableOf(this.state.rows, table);
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
