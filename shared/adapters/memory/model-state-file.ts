import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { RecsysError } from '../../errors/index.ts';
import { createMemoryModelState, tableOf, type MemoryModelState } from './model-state.ts';

interface SerializedRow {
  readonly id: string;
  readonly v: string; // base64 of the little-endian float32 vector
  readonly b: number;
  readonly c: number;
  readonly ver: number;
  readonly t: number;
}

interface SerializedState {
  readonly format: 'recsys-model-state';
  readonly formatVersion: 1;
  readonly rows: Record<string, SerializedRow[]>;
  readonly offsets: Record<string, Record<string, number>>;
  readonly counters: Record<string, Record<string, number>>;
}

/** Writes the state to `file` atomically (temporary file, then rename). */
export function saveModelState(state: MemoryModelState, file: string): void {
  const out: SerializedState = {
    format: 'recsys-model-state',
    formatVersion: 1,
    rows: {},
    offsets: {},
    counters: {},
  };
  for (const [table, rows] of state.rows) {
    const list: SerializedRow[] = [];
    for (const [id, row] of rows) {
      const bytes = Buffer.from(row.vector.buffer, row.vector.byteOffset, row.vector.byteLength);
      list.push({
        id,
        v: bytes.toString('base64'),
        b: row.bias,
        c: row.count,
        ver: row.version,
        t: row.updatedAt,
      });
    }
    (out.rows as Record<string, SerializedRow[]>)[table] = list;
  }
  for (const [scope, partitions] of state.offsets) {
    (out.offsets as Record<string, Record<string, number>>)[scope] = Object.fromEntries(partitions);
  }
  for (const [name, fields] of state.counters) {
    (out.counters as Record<string, Record<string, number>>)[name] = Object.fromEntries(fields);
  }
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
  if (parsed.format !== 'recsys-model-state' || parsed.formatVersion !== 1) {
    throw new RecsysError('DATASET_INVALID', {
      message: `${file} is not a recsys model state (format version 1).`,
    });
  }
  for (const [table, list] of Object.entries(parsed.rows)) {
    const rows = tableOf(state.rows, table);
    for (const row of list) {
      const bytes = Buffer.from(row.v, 'base64');
      const vector = new Float32Array(bytes.byteLength / 4);
      new Uint8Array(vector.buffer).set(bytes);
      rows.set(row.id, { vector, bias: row.b, count: row.c, version: row.ver, updatedAt: row.t });
    }
  }
  for (const [scope, partitions] of Object.entries(parsed.offsets)) {
    const offsets = tableOf(state.offsets, scope);
    for (const [partition, offset] of Object.entries(partitions)) offsets.set(Number(partition), offset);
  }
  for (const [name, fields] of Object.entries(parsed.counters)) {
    const counters = tableOf(state.counters, name);
    for (const [field, value] of Object.entries(fields)) counters.set(field, value);
  }
  return state;
}
