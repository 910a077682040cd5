import { Stamps, grown } from '../../shared/model/stamps.ts';
import { selectTopK, type TopKResult } from '../../shared/model/topk.ts';

export interface NeighborCacheOptions {
  /** Computes an item's neighbours (positions and similarities, best first). */
  readonly compute: (position: number) => TopKResult;
  /** A number that changes when every cached list may be wrong (e.g. the catalog version). */
  readonly generation?: () => number;
  /** Lists older than this are recomputed (the vectors they come from keep learning). */
  readonly ttlMs?: number;
  readonly capacity?: number;
  readonly clock?: () => number;
}

/**
 * Each item's nearest items, computed on first use and cached, so a request's "near what you
 * touched" candidates are a merge of a few short lists instead of scans of the whole catalog.
 * Emptied when the generation changes (content: any catalog change, so a new item shows up in
 * its neighbours' lists at once - that is cold start); MF lists also expire after `ttlMs`.
 */
export class NeighborCache {
  readonly #options: NeighborCacheOptions;
  readonly #clock: () => number;
  readonly #cache = new Map<number, { result: TopKResult; at: number }>();
  #generation = Number.NaN;
  // Scratch of nearInto, reused by every call: best score per position, valid where stamped.
  #best = new Float64Array(0);
  readonly #seen = new Stamps();
  #touched = new Int32Array(256);

  constructor(options: NeighborCacheOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
  }

  of(position: number): TopKResult {
    const generation = this.#options.generation?.() ?? 0;
    if (generation !== this.#generation) {
      this.#cache.clear();
      this.#generation = generation;
    }
    const now = this.#clock();
    const cached = this.#cache.get(position);
    if (cached !== undefined && now - cached.at < (this.#options.ttlMs ?? Number.POSITIVE_INFINITY))
      return cached.result;
    const result = this.#options.compute(position);
    if (this.#cache.size >= (this.#options.capacity ?? 200_000)) this.#cache.clear();
    this.#cache.set(position, { result, at: now });
    return result;
  }

  /**
   * Items close to something in a weighted set of items (what a user touched, recent ones
   * weighing more): score = the largest weight x similarity over the set; the best `k` that pass
   * `skip` (ties: lower position first), best first, handed to `each`. The largest, not the mean:
   * an item just like one thing the user liked is a strong candidate even when the rest of their
   * history is elsewhere.
   */
  nearInto(
    items: ArrayLike<number>,
    weights: ArrayLike<number>,
    k: number,
    skip: (position: number) => boolean,
    each: (position: number, score: number) => void,
  ): void {
    this.#seen.next(0);
    let n = 0;
    for (let i = 0; i < items.length; i++) {
      const weight = weights[i] as number;
      const neighbours = this.of(items[i] as number);
      const { indices, scores } = neighbours;
      for (let j = 0; j < indices.length; j++) {
        const p = indices[j] as number;
        const score = weight * (scores[j] as number);
        if (!(score > 0)) continue;
        this.#seen.fit(p);
        if (p >= this.#best.length) this.#best = grown(this.#best, Math.max(1024, 2 * (p + 1)));
        if (!this.#seen.has(p)) {
          this.#seen.mark(p);
          this.#best[p] = score;
          if (n === this.#touched.length) this.#touched = grown(this.#touched, 2 * n);
          this.#touched[n++] = p;
        } else if (score > (this.#best[p] as number)) {
          this.#best[p] = score;
        }
      }
    }
    // In position order, so that selectTopK's "lower index first" is "lower position first".
    const touched = this.#touched.subarray(0, n).sort();
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = this.#best[touched[i] as number] as number;
    const top = selectTopK(values, k, n, (i) => skip(touched[i] as number));
    for (let r = 0; r < top.indices.length; r++)
      each(touched[top.indices[r] as number] as number, values[top.indices[r] as number] as number);
  }

  /** `nearInto` as a map (position -> score), best first. */
  near(
    items: readonly { item: number; weight: number }[],
    k: number,
    skip: (position: number) => boolean,
  ): Map<number, number> {
    const out = new Map<number, number>();
    this.nearInto(
      items.map((e) => e.item),
      items.map((e) => e.weight),
      k,
      skip,
      (p, score) => out.set(p, score),
    );
    return out;
  }
}
