import type { Feature } from './features.ts';
import { PackedLists } from './packed-lists.ts';
import { selectTopK, type TopKResult } from './topk.ts';

/**
 * Content similarity between items from their features: cosine similarity of TF-IDF weighted
 * feature vectors (a feature shared by few items says more than one shared by all). Used for
 * "similar items" and to find content candidates for a user from the items they interacted with,
 * including items nobody has interacted with yet.
 */
/** How often all norms are recomputed after changes (IDF moves slowly). */
const NORMS_REFRESH_MS = 5_000;
/**
 * Norms recomputed per query at most while a refresh is under way: at 500,000 items the whole
 * pass took ~350 ms in one go, a stall of every request queued behind it; in steps of this many
 * it costs a query ~1 ms and a million items take ~250 queries.
 */
const NORMS_STEP = 4_096;
/** Items scored per query, at most (see #rank). */
const MAX_CANDIDATES = 500;

export class ContentIndex {
  /** Per item: feature ids and raw weights (packed: no heap objects per item). */
  readonly #items = new PackedLists();
  /** Per feature: items having it. */
  readonly #postings: number[][] = [];
  readonly #featureIds = new Map<string, number>();
  #norms = new Float64Array(0);
  /** When the last refresh pass started. */
  #normsAt = 0;
  /** The next item of the refresh pass under way (-1: none). */
  #normsNext = -1;
  #sums = new Float64Array(0);
  /** True when items changed since the last refresh pass started (IDF drifted for the others). */
  #stale = false;

  get size(): number {
    return this.#items.slots;
  }

  /** Sets (replaces) an item's features. */
  setItem(item: number, features: readonly Feature[]): void {
    const items = this.#items;
    for (let k = 0, start = items.start(item); k < items.length(item); k++) {
      const list = this.#postings[items.ids[start + k] as number] as number[];
      const at = list.indexOf(item);
      if (at >= 0) list.splice(at, 1);
    }
    const ids = features.map((f) => this.#featureId(f.key));
    items.set(
      item,
      ids,
      features.map((f) => f.weight),
    );
    for (const f of ids) (this.#postings[f] as number[]).push(item);
    if (item >= this.#norms.length) {
      const grown = new Float64Array(Math.max(64, 2 * (item + 1)));
      grown.set(this.#norms);
      this.#norms = grown;
    }
    this.#norms[item] = this.#computeNorm(item);
    this.#stale = true;
  }

  /** True when `item` has exactly these features and weights (in this order) already. */
  hasFeatures(item: number, features: readonly Feature[]): boolean {
    const items = this.#items;
    if (items.length(item) !== features.length) return false;
    const start = items.start(item);
    for (let i = 0; i < features.length; i++) {
      const f = features[i] as Feature;
      if (
        this.#featureIds.get(f.key) !== items.ids[start + i] ||
        Math.fround(f.weight) !== items.weights[start + i]
      )
        return false;
    }
    return true;
  }

  /** Cosine similarity of two items (0 when either has no features). */
  similarity(a: number, b: number): number {
    const items = this.#items;
    if (items.length(a) === 0 || items.length(b) === 0) return 0;
    this.#refreshNorms();
    let dot = 0;
    const x = items.start(a);
    const y = items.start(b);
    for (let i = 0; i < items.length(a); i++) {
      const f = items.ids[x + i] as number;
      const j = items.indexOf(b, f);
      if (j >= 0)
        dot += (items.weights[x + i] as number) * (items.weights[y + j] as number) * this.#idf(f) ** 2;
    }
    const n = this.#norm(a) * this.#norm(b);
    return n === 0 ? 0 : dot / n;
  }

  /** The k items most similar to `item` (never itself). */
  similar(item: number, k: number, skip?: (item: number) => boolean): TopKResult {
    const profile = new Map<number, number>();
    const items = this.#items;
    if (items.length(item) === 0) return { indices: new Int32Array(0), scores: new Float32Array(0) };
    this.#refreshNorms();
    for (let i = 0, x = items.start(item); i < items.length(item); i++) {
      const f = items.ids[x + i] as number;
      profile.set(f, (items.weights[x + i] as number) * this.#idf(f));
    }
    return this.#rank(profile, k, (i) => i === item || (skip?.(i) ?? false));
  }

  /**
   * The k items closest to a set of items (e.g. what a user interacted with), each given a weight:
   * the cosine to the weighted sum of their normalised vectors.
   */
  similarToItems(
    items: readonly { item: number; weight: number }[],
    k: number,
    skip?: (item: number) => boolean,
  ): TopKResult {
    this.#refreshNorms();
    const profile = new Map<number, number>();
    const lists = this.#items;
    for (const { item, weight } of items) {
      if (lists.length(item) === 0) continue;
      const norm = this.#norm(item);
      if (norm === 0) continue;
      for (let i = 0, x = lists.start(item); i < lists.length(item); i++) {
        const f = lists.ids[x + i] as number;
        profile.set(
          f,
          (profile.get(f) ?? 0) + (weight * (lists.weights[x + i] as number) * this.#idf(f)) / norm,
        );
      }
    }
    return this.#rank(profile, k, skip);
  }

  /** Scores only the items sharing a feature with the profile (sparse: cost ~ postings touched). */
  #rank(profile: Map<number, number>, k: number, skip?: (item: number) => boolean): TopKResult {
    let profileNorm = 0;
    for (const v of profile.values()) profileNorm += v * v;
    profileNorm = Math.sqrt(profileNorm);
    if (profileNorm === 0) return { indices: new Int32Array(0), scores: new Float32Array(0) };
    // Scratch accumulators over all items, reset after use: no per-query allocation of size n.
    const items = this.#items;
    if (this.#sums.length < items.slots) this.#sums = new Float64Array(items.slots * 2);
    const sums = this.#sums;
    const touched: number[] = [];
    // Rare features first: once MAX_CANDIDATES items are touched, common features (a broad
    // category) only add to the scores of those items instead of dragging in thousands more.
    const features = [...profile].sort(
      (a, b) => (this.#postings[a[0]] as number[]).length - (this.#postings[b[0]] as number[]).length,
    );
    const cap = Math.max(MAX_CANDIDATES, 2 * k);
    for (const [f, pw] of features) {
      const idf = this.#idf(f);
      const postings = this.#postings[f] as number[];
      if (touched.length >= cap && postings.length > touched.length) {
        // Full: only the touched items can still gain; look the feature up in each of them.
        for (const i of touched) {
          const at = items.indexOf(i, f);
          if (at >= 0)
            sums[i] = (sums[i] as number) + pw * (items.weights[items.start(i) + at] as number) * idf;
        }
        continue;
      }
      for (const i of postings) {
        const fresh = sums[i] === 0;
        if (fresh && touched.length >= cap) continue;
        const at = items.indexOf(i, f);
        if (fresh) touched.push(i);
        sums[i] =
          (sums[i] as number) + pw * (items.weights[items.start(i) + at] as number) * idf + Number.MIN_VALUE;
      }
    }
    const ids = Int32Array.from(touched);
    const scores = new Float32Array(ids.length);
    ids.forEach((i, j) => {
      const n = this.#norm(i);
      scores[j] = n === 0 ? 0 : (sums[i] as number) / (n * profileNorm);
      sums[i] = 0;
    });
    const best = selectTopK(
      scores,
      k,
      ids.length,
      (j) => (scores[j] as number) <= 0 || (skip?.(ids[j] as number) ?? false),
    );
    // A loop: TypedArray.from with a map function walks an iterator (an object per element).
    const indices = new Int32Array(best.indices.length);
    for (let j = 0; j < indices.length; j++) indices[j] = ids[best.indices[j] as number] as number;
    return { indices, scores: best.scores };
  }

  #featureId(key: string): number {
    let id = this.#featureIds.get(key);
    if (id === undefined) {
      id = this.#postings.length;
      this.#featureIds.set(key, id);
      this.#postings.push([]);
    }
    return id;
  }

  /** Smoothed inverse document frequency: log((1 + n) / (1 + df)) + 1. */
  #idf(feature: number): number {
    const n = this.#items.slots;
    const df = (this.#postings[feature] as number[]).length;
    return Math.log((1 + n) / (1 + df)) + 1;
  }

  /**
   * An item's TF-IDF norm. IDF depends on every item, so all norms are recomputed together at
   * most every NORMS_REFRESH_MS after changes (refreshNorms); a changed item gets its own norm at
   * once, with the IDF of that moment.
   */
  #norm(item: number): number {
    return this.#norms[item] ?? 0;
  }

  /**
   * Moves the refresh of every norm along: a pass starts at most every NORMS_REFRESH_MS after
   * changes and recomputes NORMS_STEP items per call, so no query pays for the whole catalog
   * (until a pass ends, some norms carry the IDF of its start: it drifts slowly).
   */
  #refreshNorms(): void {
    if (this.#normsNext < 0) {
      if (!this.#stale) return;
      const now = Date.now();
      if (now - this.#normsAt < NORMS_REFRESH_MS) return;
      this.#normsAt = now;
      this.#normsNext = 0;
      this.#stale = false;
    }
    const end = Math.min(this.#items.slots, this.#normsNext + NORMS_STEP);
    for (let i = this.#normsNext; i < end; i++) this.#norms[i] = this.#computeNorm(i);
    this.#normsNext = end >= this.#items.slots ? -1 : end;
  }

  #computeNorm(item: number): number {
    const items = this.#items;
    const x = items.start(item);
    let sum = 0;
    for (let k = 0; k < items.length(item); k++) {
      const v = (items.weights[x + k] as number) * this.#idf(items.ids[x + k] as number);
      sum += v * v;
    }
    return Math.sqrt(sum);
  }
}
