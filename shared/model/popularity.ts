import { selectTopK, type TopKResult } from './topk.ts';

export interface PopularityConfig {
  /** Time for an interaction's weight to halve, in milliseconds. */
  readonly halfLifeMs: number;
}

interface Segment {
  /** Per item: sum of weight * 2^((t - reference) / halfLife). */
  scores: Float64Array;
  count: number;
}

/** Segment every interaction also counts towards. */
export const GLOBAL_SEGMENT = '*';

/**
 * Time-decayed item popularity, globally and per context segment (e.g. device x hour bucket),
 * the first fallback for new users. An interaction of weight w at time t is worth
 * w * 2^(-(now - t) / halfLife) at time `now`.
 *
 * Scores are kept relative to a reference time, so ranking never needs to decay every item:
 * the stored value w * 2^((t - ref) / halfLife) orders items exactly as their decayed values do
 * at any `now`. When the exponent grows large, all scores are rebased (multiplied by a constant),
 * which changes no ranking.
 */
export class DecayedPopularity {
  readonly config: PopularityConfig;
  readonly #segments = new Map<string, Segment>();
  #reference: number | undefined;

  constructor(config: PopularityConfig) {
    if (!(config.halfLifeMs > 0)) throw new RangeError('halfLifeMs must be positive');
    this.config = config;
  }

  /** Adds an interaction to the global segment and to `segment` (when given). */
  add(item: number, weight: number, time: number, segment?: string): void {
    if (!Number.isFinite(weight) || !Number.isFinite(time)) return;
    if (this.#reference === undefined) this.#reference = time;
    let exponent = (time - this.#reference) / this.config.halfLifeMs;
    if (exponent > 512) {
      this.#rebase(time);
      exponent = 0;
    }
    const value = weight * 2 ** exponent;
    this.#bump(GLOBAL_SEGMENT, item, value);
    if (segment !== undefined && segment !== GLOBAL_SEGMENT) this.#bump(segment, item, value);
  }

  /** Decayed popularity of an item in a segment at time `now`. */
  score(item: number, now: number, segment = GLOBAL_SEGMENT): number {
    const s = this.#segments.get(segment);
    if (s === undefined || this.#reference === undefined || item >= s.scores.length) return 0;
    return (s.scores[item] as number) * 2 ** ((this.#reference - now) / this.config.halfLifeMs);
  }

  /** The k most popular items of a segment at `now` (falls back to global when it is empty). */
  top(k: number, now: number, segment = GLOBAL_SEGMENT, skip?: (item: number) => boolean): TopKResult {
    const s = this.#segments.get(segment) ?? this.#segments.get(GLOBAL_SEGMENT);
    if (s === undefined || this.#reference === undefined)
      return { indices: new Int32Array(0), scores: new Float32Array(0) };
    const result = selectTopK(
      s.scores,
      k,
      s.scores.length,
      (i) => (s.scores[i] as number) <= 0 || (skip?.(i) ?? false),
    );
    const factor = 2 ** ((this.#reference - now) / this.config.halfLifeMs);
    return { indices: result.indices, scores: result.scores.map((v) => v * factor) };
  }

  segments(): string[] {
    return [...this.#segments.keys()];
  }

  toJSON(): { halfLifeMs: number; reference: number | null; segments: Record<string, number[]> } {
    const segments: Record<string, number[]> = {};
    for (const [name, s] of this.#segments) segments[name] = Array.from(s.scores.subarray(0, s.count));
    return { halfLifeMs: this.config.halfLifeMs, reference: this.#reference ?? null, segments };
  }

  static fromJSON(data: {
    halfLifeMs: number;
    reference: number | null;
    segments: Record<string, number[]>;
  }): DecayedPopularity {
    const out = new DecayedPopularity({ halfLifeMs: data.halfLifeMs });
    out.#reference = data.reference ?? undefined;
    for (const [name, values] of Object.entries(data.segments)) {
      out.#segments.set(name, { scores: Float64Array.from(values), count: values.length });
    }
    return out;
  }

  #bump(name: string, item: number, value: number): void {
    let s = this.#segments.get(name);
    if (s === undefined) {
      s = { scores: new Float64Array(Math.max(64, item + 1)), count: 0 };
      this.#segments.set(name, s);
    }
    if (item >= s.scores.length) {
      const grown = new Float64Array(Math.max(item + 1, s.scores.length * 2));
      grown.set(s.scores);
      s.scores = grown;
    }
    s.scores[item] = (s.scores[item] as number) + value;
    if (item >= s.count) s.count = item + 1;
  }

  #rebase(now: number): void {
    const factor = 2 ** (((this.#reference as number) - now) / this.config.halfLifeMs);
    for (const s of this.#segments.values())
      for (let i = 0; i < s.count; i++) s.scores[i] = (s.scores[i] as number) * factor;
    this.#reference = now;
  }
}
