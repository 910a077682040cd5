import type { Context, ContextEncoder } from '../../../../shared/model/context.ts';
import type { ItemIndex } from '../../index/item-index.ts';
import type { PopularCache, PopularEntry } from '../../index/popular-cache.ts';
import type { CandidateQuery, CandidateSource } from '../candidate-source.ts';
import type { CandidateSet } from '../candidates.ts';

/**
 * The popular list of a context: its segment's list (device x hour bucket, as the trainer writes
 * it), topped up from the global one. A merged list is kept until either list is refreshed, so
 * requests share it (and the positions PopularSource resolves for it).
 */
export class PopularLists {
  readonly #cache: PopularCache;
  readonly #encoder: ContextEncoder;
  readonly #depth: number;
  readonly #merged = new Map<
    string,
    { own: PopularEntry | undefined; global: PopularEntry | undefined; items: PopularEntry['items'] }
  >();

  constructor(cache: PopularCache, encoder: ContextEncoder, depth: number) {
    this.#cache = cache;
    this.#encoder = encoder;
    this.#depth = depth;
  }

  async get(context: Context | undefined, now: number): Promise<PopularEntry['items']> {
    const segment = this.#encoder.segment(context, now);
    const [own, global] = await Promise.all([this.#cache.get(segment), this.#cache.get('*')]);
    const memo = this.#merged.get(segment);
    if (memo !== undefined && memo.own === own && memo.global === global) return memo.items;
    const items = this.#merge(own, global);
    this.#merged.delete(segment);
    this.#merged.set(segment, { own, global, items });
    if (this.#merged.size > 1_000) {
      const oldest = this.#merged.keys().next().value;
      if (oldest !== undefined) this.#merged.delete(oldest);
    }
    return items;
  }

  #merge(own: PopularEntry | undefined, global: PopularEntry | undefined): PopularEntry['items'] {
    const items = [...(own?.items ?? [])];
    if (items.length < this.#depth) {
      const seen = new Set(items.map((e) => e.itemId));
      // Global scores continue below the segment's, scaled into (0, floor / 2]: the two lists'
      // scores are on different scales. Without a segment list, global scores stand as they are.
      const floor = items.at(-1)?.score;
      const globalTop = global?.items[0]?.score ?? 1;
      for (const e of global?.items ?? []) {
        if (seen.has(e.itemId)) continue;
        items.push({
          itemId: e.itemId,
          score: floor === undefined ? e.score : (floor * e.score) / (globalTop * 2),
        });
        if (items.length >= this.#depth) break;
      }
    }
    return items;
  }
}

/** Popular: the request's popular list (CandidateQuery.popular), by decayed popularity. */
export class PopularSource implements CandidateSource {
  readonly #index: ItemIndex;
  readonly #positions = new WeakMap<
    PopularEntry['items'],
    { positions: Int32Array; size: number; complete: boolean }
  >();

  constructor(index: ItemIndex) {
    this.#index = index;
  }

  collect({ popular, skip }: CandidateQuery, found: CandidateSet): void {
    const at = this.#positionsOf(popular);
    for (let j = 0; j < popular.length; j++) {
      const p = at[j] as number;
      if (p >= 0 && !skip(p)) found.popular[found.at(p)] = (popular[j] as { score: number }).score;
    }
  }

  /** Positions of a shared list's items (-1: unknown), resolved once per list and catalog size. */
  #positionsOf(list: PopularEntry['items']): Int32Array {
    const index = this.#index;
    const memo = this.#positions.get(list);
    if (memo !== undefined && (memo.complete || memo.size === index.size)) return memo.positions;
    const positions = new Int32Array(list.length);
    let complete = true;
    list.forEach((e, j) => {
      const p = index.indexOf(e.itemId);
      positions[j] = p;
      if (p < 0) complete = false;
    });
    this.#positions.set(list, { positions, size: index.size, complete });
    return positions;
  }
}
