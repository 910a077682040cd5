import type { TopKResult } from '../../shared/model/topk.ts';

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
   * `skip`. The largest, not the mean: an item just like one thing the user liked is a strong
   * candidate even when the rest of their history is elsewhere.
   */
  near(
    items: readonly { item: number; weight: number }[],
    k: number,
    skip: (position: number) => boolean,
  ): Map<number, number> {
    const best = new Map<number, number>();
    for (const { item, weight } of items) {
      const neighbours = this.of(item);
      neighbours.indices.forEach((p, j) => {
        const score = weight * (neighbours.scores[j] as number);
        if (score > (best.get(p) ?? 0)) best.set(p, score);
      });
    }
    const ranked = [...best].filter(([p]) => !skip(p)).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    return new Map(ranked.slice(0, k));
  }
}
