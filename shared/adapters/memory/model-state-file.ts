import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { RecsysError } from '../../errors/index.ts';
import type { CatalogRecord, ItemChanges } from '../../ports/index.ts';
import { createMemoryModelState, tableOf, type MemoryModelState } from './model-state.ts';

interface SerializedRow {
  readonly id: string;
  readonly v: string; // base64 of the little-endian float32 vector
  readonly s: string; // base64 of the float32 optimizer state
  readonly b: number;
  readonly c: number;
  readonly ver: number;
  readonly t: number;
}

interface SerializedState {
  readonly format: 'recsys-model-state';
  readonly formatVersion: 3;
  readonly rows: Record<string, SerializedRow[]>;
  readonly offsets: Record<string, Record<string, number>>;
  readonly counters: Record<string, Record<string, number>>;
  readonly histories: Record<string, string[]>;
  readonly registries: Record<string, string[]>;
  readonly popularity: Record<string, Record<string, number>>;
  /** Absent in files written before the session signal was stored. */
  readonly transitions?: Record<string, Record<string, number>>;
  readonly streams: Record<string, { entries: ItemChanges[]; sequence: number }>;
  readonly items: Record<string, CatalogRecord>;
  readonly users: Record<string, CatalogRecord>;
}

const toBase64 = (a: Float32Array): string =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const fromBase64 = (text: string): Float32Array => {
  const bytes = Buffer.from(text, 'base64');
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
};
const mapOfMaps = <K>(m: Map<string, Map<K, number>>) =>
  Object.fromEntries([...m].map(([k, inner]) => [k, Object.fromEntries(inner)])) as Record<
    string,
    Record<string, number>
  >;

/** Writes the state to `file` atomically (temporary file, then rename). */
export function saveModelState(state: MemoryModelState, file: string): void {
  const rows: Record<string, SerializedRow[]> = {};
  for (const [table, entries] of state.rows) {
    rows[table] = [...entries].map(([id, row]) => ({
      id,
      v: toBase64(row.vector),
      s: toBase64(row.state),
      b: row.bias,
      c: row.count,
      ver: row.version,
      t: row.updatedAt,
    }));
  }
  const out: SerializedState = {
    format: 'recsys-model-state',
    formatVersion: 3,
    rows,
    offsets: mapOfMaps(state.offsets),
    counters: mapOfMaps(state.counters),
    histories: Object.fromEntries(state.histories),
    registries: Object.fromEntries([...state.registries].map(([name, r]) => [name, r.order])),
    popularity: mapOfMaps(state.popularity),
    transitions: mapOfMaps(state.transitions),
    streams: Object.fromEntries(state.streams),
    items: Object.fromEntries(state.items),
    users: Object.fromEntries(state.users),
  };
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(out));
  renameSync(tmp, file);
}

/** Reads a state written by saveModelState; a missing file is an empty state. */
export function loadModelState(file: string): MemoryModelState {
  const state = createMemoryModelState();
  if (!existsSync(file)) return state;
  let parsed: SerializedState;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as SerializedState;
  } catch (cause) {
    throw new RecsysError('DATASET_INVALID', {
      message: `Cannot read the model state in ${file}: ${(cause as Error).message}. Move the file away to start afresh.`,
      cause,
    });
  }
  if (parsed.format !== 'recsys-model-state' || parsed.formatVersion !== 3) {
    throw new RecsysError('DATASET_INVALID', {
      message: `${file} is not a recsys model state of format version 3; move it away to start afresh.`,
    });
  }
  for (const [table, list] of Object.entries(parsed.rows)) {
    const rows = tableOf(state.rows, table);
    for (const row of list) {
      rows.set(row.id, {
        vector: fromBase64(row.v),
        state: fromBase64(row.s),
        bias: row.b,
        count: row.c,
        version: row.ver,
        updatedAt: row.t,
      });
    }
  }
  for (const [scope, partitions] of Object.entries(parsed.offsets)) {
    const offsets = tableOf(state.offsets, scope);
    for (const [partition, offset] of Object.entries(partitions)) offsets.set(Number(partition), offset);
  }
  const fill = (target: Map<string, Map<string, number>>, source: Record<string, Record<string, number>>) => {
    for (const [name, fields] of Object.entries(source)) {
      const inner = tableOf(target, name);
      for (const [field, value] of Object.entries(fields)) inner.set(field, value);
    }
  };
  fill(state.counters, parsed.counters);
  fill(state.popularity, parsed.popularity);
  fill(state.transitions, parsed.transitions ?? {});
  for (const [user, items] of Object.entries(parsed.histories)) state.histories.set(user, items);
  for (const [name, order] of Object.entries(parsed.registries)) {
    state.registries.set(name, { order: [...order], known: new Set(order) });
  }
  for (const [name, stream] of Object.entries(parsed.streams)) state.streams.set(name, stream);
  for (const [id, record] of Object.entries(parsed.items)) state.items.set(id, record);
  for (const [id, record] of Object.entries(parsed.users)) state.users.set(id, record);
  return state;
}
