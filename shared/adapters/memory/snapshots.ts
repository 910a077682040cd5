import {
  CATALOG_STREAM,
  rowEntry,
  rowOf,
  type RowTable,
  type SnapshotEntry,
  type SnapshotStore,
} from '../../ports/index.ts';
import { DEGREE_MEMBER } from '../transitions.ts';
import type { MemoryContext } from './context.ts';
import { tableOf } from './model-state.ts';

/** Export and import in memory: the state's maps entry by entry. */
export class MemorySnapshots implements SnapshotStore {
  readonly #ctx: MemoryContext;

  constructor(ctx: MemoryContext) {
    this.#ctx = ctx;
  }

  async *snapshot(tables: readonly RowTable[]): AsyncIterable<SnapshotEntry> {
    const st = this.#ctx.state;
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
    const st = this.#ctx.state;
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
    if (items.length > 0) this.#ctx.appendChanges(CATALOG_STREAM, items);
    this.#ctx.dirty = true;
  }
}
