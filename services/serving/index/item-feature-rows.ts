import { addRowMean } from '../../../shared/model/composite.ts';
import type { Feature } from '../../../shared/model/features.ts';
import { PackedLists } from '../../../shared/model/packed-lists.ts';
import { initialVector } from '../../../shared/model/random.ts';
import { MF_TABLES } from '../../../shared/model/registry.ts';
import type { Row } from '../../../shared/ports/index.ts';

/**
 * The item feature side of serving's MF copy: every feature row (`mf:item-feature`) by key, and
 * per item its features' positions and weights (packed: no heap objects per item). An item's
 * composite vector adds the weighted mean of its feature rows (addMeanTo).
 */
export class ItemFeatureRows {
  readonly #dim: number;
  readonly #seed: number;
  readonly #initStd: number;
  readonly #lists = new PackedLists();
  readonly #positions = new Map<string, number>();
  readonly #keys: string[] = [];
  #rows = new Float32Array(0);

  /** A row the trainer never wrote starts as it would (dimension, seed, initial spread). */
  constructor(dim: number, seed: number, initStd: number) {
    this.#dim = dim;
    this.#seed = seed;
    this.#initStd = initStd;
  }

  /** Sets an item's features; returns the keys whose rows are not loaded yet. */
  assign(position: number, features: readonly Feature[]): string[] {
    const missing: string[] = [];
    this.#lists.set(
      position,
      features.map((f) => {
        const known = this.#positions.get(f.key);
        if (known !== undefined) return known;
        missing.push(f.key);
        return this.#add(f.key);
      }),
      features.map((f) => f.weight),
    );
    return missing;
  }

  /**
   * Sets feature rows (undefined: not trained yet, the initial row stays). `tolerance` > 0 (a
   * refresh): a row is replaced only when some value moved by more than `tolerance` times (1 +
   * the row's largest magnitude) since it was last set, so the trickle of small updates every
   * event makes waits until it adds up. Returns the feature positions replaced.
   */
  setRows(keys: readonly string[], rows: readonly (Row | undefined)[], tolerance: number): number[] {
    const replaced: number[] = [];
    const dim = this.#dim;
    keys.forEach((key, k) => {
      const row = rows[k];
      const f = this.#positions.get(key) ?? this.#add(key);
      if (row === undefined) return;
      const at = f * dim;
      if (tolerance > 0) {
        let largest = 0;
        let moved = 0;
        for (let d = 0; d < dim; d++) {
          largest = Math.max(largest, Math.abs(row.vector[d] as number));
          moved = Math.max(moved, Math.abs((row.vector[d] as number) - (this.#rows[at + d] as number)));
        }
        if (moved <= tolerance * (1 + largest)) return;
      }
      this.#rows.set(row.vector.subarray(0, dim), at);
      replaced.push(f);
    });
    return replaced;
  }

  /** True when the item has one of the `features` positions. */
  uses(position: number, features: ReadonlySet<number>): boolean {
    const lists = this.#lists;
    const start = lists.start(position);
    const end = start + lists.length(position);
    for (let k = start; k < end; k++) if (features.has(lists.ids[k] as number)) return true;
    return false;
  }

  /** Number of features of an item. */
  count(position: number): number {
    return this.#lists.length(position);
  }

  /** Every feature key known. */
  keys(): readonly string[] {
    return this.#keys;
  }

  /** Adds the weighted mean of the item's feature rows to `out` (nothing without features). */
  addMeanTo(out: Float32Array, position: number): void {
    const lists = this.#lists;
    const count = lists.length(position);
    if (count > 0)
      addRowMean(out, this.#rows, lists.ids, lists.weights, lists.start(position), count, this.#dim);
  }

  #add(key: string): number {
    const dim = this.#dim;
    const f = this.#keys.length;
    this.#keys.push(key);
    this.#positions.set(key, f);
    if ((f + 1) * dim > this.#rows.length) {
      const grown = new Float32Array(Math.max(64, 2 * (f + 1)) * dim);
      grown.set(this.#rows);
      this.#rows = grown;
    }
    if (this.#initStd > 0)
      initialVector(
        this.#rows.subarray(f * dim, (f + 1) * dim),
        this.#seed,
        MF_TABLES.itemFeature,
        key,
        this.#initStd,
      );
    return f;
  }
}
