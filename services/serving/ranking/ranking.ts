import { selectTopK } from '../../../shared/model/topk.ts';
import { SOURCES, type Source } from './blend.ts';

/**
 * A request's ranking as kept for paging: item positions, scores and source codes in typed arrays
 * (cheap to keep thousands of: nothing for the garbage collector to trace), ordered best first
 * by score, ties by item id (the same order on every instance).
 *
 * Sorted lazily: a request usually reads the first page of hundreds of candidates, so only the
 * prefix a page needs is put in order (a top-k selection, then a sort of those few); the rest
 * stays in candidate order until a later page or a whole-ranking rule (diversity) asks for it.
 * Entries [0, sorted) are final and better than every entry after them.
 */
export class Ranking {
  readonly positions: Int32Array;
  readonly scores: Float32Array;
  readonly sources: Uint8Array;
  readonly #idAt: (position: number) => string;
  #sorted = 0;

  constructor(
    positions: Int32Array,
    scores: Float32Array,
    sources: Uint8Array,
    idAt: (position: number) => string,
  ) {
    this.positions = positions;
    this.scores = scores;
    this.sources = sources;
    this.#idAt = idAt;
  }

  get length(): number {
    return this.positions.length;
  }

  /** The item id at a position (the index's). */
  idAt(position: number): string {
    return this.#idAt(position);
  }

  /** Entries in final order so far (for tests). */
  get sorted(): number {
    return this.#sorted;
  }

  /** Puts the first `count` entries (all when omitted) in their final order. */
  sortTo(count = this.length): void {
    const n = this.length;
    const want = Math.min(n, count);
    const from = this.#sorted;
    if (want <= from) return;
    const rest = n - from;
    const need = want - from;
    // Indices (within [from, n)) of the entries that make the next `need`: every entry above the
    // need-th best score, and every one tied with it (ties are settled by item id below).
    let chosen: number[];
    if (need * 4 >= rest) {
      chosen = Array.from({ length: rest }, (_, j) => j);
    } else {
      const tail = this.scores.subarray(from);
      const top = selectTopK(tail, need);
      const threshold = top.scores[top.scores.length - 1] as number;
      chosen = [];
      for (let j = 0; j < rest; j++) if ((tail[j] as number) >= threshold) chosen.push(j);
    }
    const scores = this.scores;
    const positions = this.positions;
    chosen.sort((a, b) => {
      const d = (scores[from + b] as number) - (scores[from + a] as number);
      if (d !== 0) return d;
      const x = this.#idAt(positions[from + a] as number);
      const y = this.#idAt(positions[from + b] as number);
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const settled = chosen.length === rest ? rest : Math.min(need, chosen.length);
    // Rewrite [from, n): the settled entries in order, then the others in their previous order.
    const order = new Int32Array(rest);
    const taken = new Uint8Array(rest);
    for (let j = 0; j < settled; j++) {
      order[j] = chosen[j] as number;
      taken[chosen[j] as number] = 1;
    }
    let w = settled;
    for (let j = 0; j < rest; j++) if (taken[j] === 0) order[w++] = j;
    permute(this.positions, from, order);
    permute(this.scores, from, order);
    permute(this.sources, from, order);
    this.#sorted = from + settled;
  }

  /** A new ranking of the entries `keep` says to keep, in final order (sorts everything first). */
  /** At most `maxPerCategory` items of any one category, in rank order (maxPerCategory). */
  diversified(maxPerCategory: number, categoriesOf: (position: number) => readonly string[]): Ranking {
    const used = new Map<string, number>();
    return this.filter((p) => {
      const categories = categoriesOf(p);
      if (categories.some((c) => (used.get(c) ?? 0) >= maxPerCategory)) return false;
      for (const c of categories) used.set(c, (used.get(c) ?? 0) + 1);
      return true;
    });
  }

  filter(keep: (position: number, index: number) => boolean): Ranking {
    this.sortTo();
    const kept: number[] = [];
    for (let j = 0; j < this.length; j++) if (keep(this.positions[j] as number, j)) kept.push(j);
    const positions = new Int32Array(kept.length);
    const scores = new Float32Array(kept.length);
    const sources = new Uint8Array(kept.length);
    kept.forEach((j, i) => {
      positions[i] = this.positions[j] as number;
      scores[i] = this.scores[j] as number;
      sources[i] = this.sources[j] as number;
    });
    const out = new Ranking(positions, scores, sources, this.#idAt);
    out.#sorted = kept.length;
    return out;
  }
}

/** a[from + j] = old a[from + order[j]] */
function permute(a: Int32Array | Float32Array | Uint8Array, from: number, order: Int32Array): void {
  const copy = a.slice(from);
  for (let j = 0; j < order.length; j++) a[from + j] = copy[order[j] as number] as number;
}

/** The items of a ranking from `offset`, at most `k`, best first (ties by item id). */
export function pageOf(
  ranking: Ranking,
  offset: number,
  k: number,
): { itemId: string; score: number; source: Source }[] {
  const end = Math.min(ranking.length, offset + k);
  ranking.sortTo(end);
  const out: { itemId: string; score: number; source: Source }[] = [];
  for (let j = offset; j < end; j++) {
    out.push({
      itemId: ranking.idAt(ranking.positions[j] as number),
      score: ranking.scores[j] as number,
      source: SOURCES[ranking.sources[j] as number] as Source,
    });
  }
  return out;
}
