/**
 * Time-decayed item popularity on the stream's own clock, the first fallback for new users and
 * the `popular` source. An interaction of weight w at time t is worth w * 2^(-(now - t) / h) at
 * time `now` (h: the half-life). Every item's value shrinks by the same factor as `now` moves, so
 * the order of items is the order of sum(w * 2^((t - epoch) / h)) for any fixed epoch: no decay
 * is applied at read time, and the wall clock plays no part (a replay of 1997 data ranks its items
 * as they were ranked in 1997).
 *
 * That sum is kept as its base-2 logarithm, because the sum itself over- or underflows a float64
 * about 1,000 half-lives from the epoch (19 years at 7 days: MovieLens 100K, from 1997, would be 0
 * for every item). In the log domain an interaction is `log2(w) + (t - epoch) / h` and two
 * values combine by logAdd2; the stores do the same (the Redis commit script has its copy).
 */

/** log2(w * 2^((t - epoch) / h)): the log-domain value of one interaction (w > 0). */
export function popularityLogScore(
  weight: number,
  timeMs: number,
  epochMs: number,
  halfLifeMs: number,
): number {
  return Math.log2(weight) + (timeMs - epochMs) / halfLifeMs;
}

/** log2(2^a + 2^b), exact to float64 rounding for any a and b (no overflow, no underflow). */
export function logAdd2(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  const high = Math.max(a, b);
  return high + Math.log2(1 + 2 ** (Math.min(a, b) - high));
}

/**
 * Scores of a list in the log domain (best first) as linear values relative to the first:
 * 2^(s - s_first), in (0, 1]. What serving blends and shows: only ratios and order mean anything.
 */
export function relativeToTop<T extends { readonly score: number }>(list: readonly T[]): T[] {
  const top = list[0]?.score ?? 0;
  return list.map((entry) => ({ ...entry, score: 2 ** (entry.score - top) }));
}
