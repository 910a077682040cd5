import type { Random } from '../shared/model/random.ts';

/**
 * Draws ids from a Zipf distribution (weight 1 / rank^s), with ranks scattered over the id space
 * by a seeded permutation so that popular rows are not also neighbours in memory, as in real data.
 */
export function zipfSampler(n: number, s: number, random: Random): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let rank = 0; rank < n; rank++) {
    total += 1 / (rank + 1) ** s;
    cdf[rank] = total;
  }
  const permutation = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const t = permutation[i] as number;
    permutation[i] = permutation[j] as number;
    permutation[j] = t;
  }
  return () => {
    const target = random.next() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    return permutation[lo] as number;
  };
}

export function uniformSampler(n: number, random: Random): () => number {
  return () => random.int(n);
}
