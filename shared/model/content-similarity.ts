import type { Feature } from './features.ts';
import { selectTopK, type TopKResult } from './topk.ts';

/**
 * Content similarity between items from their features: cosine similarity of TF-IDF weighted
 * feature vectors (a feature shared by few items says more than one shared by all). Used for
 * "similar items" and to find content candidates for a user from the items they interacted with,
 * including items nobody has interacted with yet.
 */
export class ContentIndex {
  /** Per item: feature ids and raw weights. */
  readonly #items: ({ features: Int32Array; weights: Float32Array } | undefined)[] = [];
  /** Per feature: items having it. */
  readonly #postings: number[][] = [];
  readonly #featureIds = new Map<string, number>();
  #norms: Float64Array | undefined;

  get size(): number {
    return this.#items.length;
  }

  /** Sets (replaces) an item's features. */
  setItem(item: number, features: readonly Feature[]): void {
    const previous = this.#items[item];
    if (previous !== undefined) {
      for (const f of previous.features) {
        const list = this.#postings[f] as number[];
        const at = list.indexOf(item);
        if (at >= 0) list.splice(at, 1);
      }
    }
    const ids = Int32Array.from(features, (f) => this.#featureId(f.key));
    const weights = Float32Array.from(features, (f) => f.weight);
    this.#items[item] = ids.length === 0 ? undefined : { features: ids, weights };
    for (const f of ids) (this.#postings[f] as number[]).push(item);
    this.#norms = undefined;
  }

  /** Cosine similarity of two items (0 when either has no features). */
  similarity(a: number, b: number): number {
    const x = this.#items[a];
    const y = this.#items[b];
    if (x === undefined || y === undefined) return 0;
    const norms = this.#itemNorms();
    let dot = 0;
    for (let i = 0; i < x.features.length; i++) {
      const f = x.features[i] as number;
      const j = y.features.indexOf(f);
      if (j >= 0) dot += (x.weights[i] as number) * (y.weights[j] as number) * this.#idf(f) ** 2;
    }
    const n = (norms[a] as number) * (norms[b] as number);
    return n === 0 ? 0 : dot / n;
  }

  /** The k items most similar to `item` (never itself). */
  similar(item: number, k: number, skip?: (item: number) => boolean): TopKResult {
    const profile = new Map<number, number>();
    const x = this.#items[item];
    if (x === undefined) return { indices: new Int32Array(0), scores: new Float32Array(0) };
    x.features.forEach((f, i) => profile.set(f, (x.weights[i] as number) * this.#idf(f)));
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
    const norms = this.#itemNorms();
    const profile = new Map<number, number>();
    for (const { item, weight } of items) {
      const x = this.#items[item];
      if (x === undefined) continue;
      const norm = norms[item] as number;
      if (norm === 0) continue;
      x.features.forEach((f, i) =>
        profile.set(f, (profile.get(f) ?? 0) + (weight * (x.weights[i] as number) * this.#idf(f)) / norm),
      );
    }
    return this.#rank(profile, k, skip);
  }

  #rank(profile: Map<number, number>, k: number, skip?: (item: number) => boolean): TopKResult {
    const norms = this.#itemNorms();
    let profileNorm = 0;
    for (const v of profile.values()) profileNorm += v * v;
    profileNorm = Math.sqrt(profileNorm);
    const scores = new Float32Array(this.#items.length);
    if (profileNorm === 0) return { indices: new Int32Array(0), scores: new Float32Array(0) };
    for (const [f, pw] of profile) {
      const idf = this.#idf(f);
      for (const i of this.#postings[f] as number[]) {
        const x = this.#items[i] as { features: Int32Array; weights: Float32Array };
        const at = x.features.indexOf(f);
        scores[i] = (scores[i] as number) + pw * (x.weights[at] as number) * idf;
      }
    }
    for (let i = 0; i < scores.length; i++) {
      const n = norms[i] as number;
      scores[i] = n === 0 ? 0 : (scores[i] as number) / (n * profileNorm);
    }
    return selectTopK(scores, k, scores.length, (i) => (scores[i] as number) <= 0 || (skip?.(i) ?? false));
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
    const n = this.#items.length;
    const df = (this.#postings[feature] as number[]).length;
    return Math.log((1 + n) / (1 + df)) + 1;
  }

  #itemNorms(): Float64Array {
    if (this.#norms !== undefined && this.#norms.length === this.#items.length) return this.#norms;
    const norms = new Float64Array(this.#items.length);
    this.#items.forEach((x, i) => {
      if (x === undefined) return;
      let sum = 0;
      x.features.forEach((f, k) => {
        const v = (x.weights[k] as number) * this.#idf(f);
        sum += v * v;
      });
      norms[i] = Math.sqrt(sum);
    });
    this.#norms = norms;
    return norms;
  }
}
