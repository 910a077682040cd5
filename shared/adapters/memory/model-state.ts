import type { CatalogRecord, ItemChanges, Row } from '../../ports/index.ts';

/**
 * The state behind the in-memory model store. Several MemoryModelStore handles may share one state
 * (the in-process equivalent of several Redis clients).
 */
export interface MemoryModelState {
  readonly rows: Map<string, Map<string, Row>>;
  readonly offsets: Map<string, Map<number, number>>;
  readonly counters: Map<string, Map<string, number>>;
  readonly histories: Map<string, string[]>;
  readonly registries: Map<string, { readonly order: string[]; readonly known: Set<string> }>;
  readonly popularity: Map<string, Map<string, number>>;
  /** Per item: neighbour -> pair weight, and the degree under DEGREE_MEMBER (adapters/transitions.ts). */
  readonly transitions: Map<string, Map<string, number>>;
  readonly streams: Map<string, { entries: ItemChanges[]; sequence: number }>;
  readonly items: Map<string, CatalogRecord>;
  readonly users: Map<string, CatalogRecord>;
}

export function createMemoryModelState(): MemoryModelState {
  return {
    rows: new Map(),
    offsets: new Map(),
    counters: new Map(),
    histories: new Map(),
    registries: new Map(),
    popularity: new Map(),
    transitions: new Map(),
    streams: new Map(),
    items: new Map(),
    users: new Map(),
  };
}

export function tableOf<V>(map: Map<string, Map<string, V>>, name: string): Map<string, V>;
export function tableOf<K, V>(map: Map<string, Map<K, V>>, name: string): Map<K, V>;
export function tableOf<K, V>(map: Map<string, Map<K, V>>, name: string): Map<K, V> {
  let table = map.get(name);
  if (table === undefined) {
    table = new Map();
    map.set(name, table);
  }
  return table;
}
