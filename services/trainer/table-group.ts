import type { RowDelta, RowValue, TableRows } from '../../shared/ports/index.ts';
import type { TableSync } from './table-sync.ts';

/**
 * A model's tables synced together, with the rows trained since the last write (per table):
 * what a trainer marks, writes, and drops again when a write does not happen.
 */
export class TableGroup {
  readonly #entries: { readonly sync: TableSync; touched: Set<number> }[];

  constructor(syncs: readonly TableSync[]) {
    this.#entries = syncs.map((sync) => ({ sync, touched: new Set<number>() }));
  }

  /** Forgets the tables' change marks so far (rows loaded from the store, not trained). */
  takeDirty(): void {
    for (const { sync } of this.#entries) sync.table.takeDirty();
  }

  /** The rows training changed since takeDirty: marked changed and touched. */
  collectChanged(): void {
    for (const entry of this.#entries) {
      const dirty = entry.sync.table.takeDirty();
      entry.sync.markChanged(dirty);
      for (const index of dirty) entry.touched.add(index);
    }
  }

  /** The rows of `sync`'s table trained since the last write. */
  touched(sync: TableSync): ReadonlySet<number> {
    return this.#entries.find((e) => e.sync === sync)?.touched ?? new Set();
  }

  /** The touched rows as puts (owned tables) and deltas (shared), and what to call once written. */
  writes(now: number): { puts: TableRows<RowValue>[]; deltas: TableRows<RowDelta>[]; done: () => void } {
    const puts: TableRows<RowValue>[] = [];
    const deltas: TableRows<RowDelta>[] = [];
    const done: (() => void)[] = [];
    for (const entry of this.#entries) {
      const w = entry.sync.writes([...entry.touched], now);
      if (w.puts) puts.push(w.puts);
      if (w.deltas) deltas.push(w.deltas);
      done.push(w.done);
      entry.touched = new Set();
    }
    return { puts, deltas, done: () => done.forEach((d) => d()) };
  }

  /** The touched rows are not in the store: read them again when next needed. */
  invalidateTouched(): void {
    for (const entry of this.#entries) entry.sync.invalidate(entry.touched);
    this.clearTouched();
  }

  clearTouched(): void {
    for (const entry of this.#entries) entry.touched = new Set();
  }

  invalidateAll(): void {
    for (const { sync } of this.#entries) sync.invalidateAll();
    this.clearTouched();
  }

  /** Rows held locally, over every table. */
  rows(): number {
    return this.#entries.reduce((n, { sync }) => n + sync.table.size, 0);
  }
}
