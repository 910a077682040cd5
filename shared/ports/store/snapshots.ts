import { MODEL_NAMES, MODELS } from '../../model/registry.ts';
import type { CatalogRecord } from './catalog.ts';
import type { Row, RowTable } from './rows.ts';

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

/** Export and import of a whole store (`recsys export` / `recsys import`). */
export interface SnapshotStore {
  /** Everything in the store for these row tables and all other state, entry by entry (export). */
  snapshot(tables: readonly RowTable[]): AsyncIterable<SnapshotEntry>;
  /**
   * Writes snapshot entries as they are (import): rows with their versions, counters and offsets
   * set (not added), histories and registries replaced. Meant for an empty store.
   */
  restore(entries: readonly SnapshotEntry[]): Promise<void>;
}
