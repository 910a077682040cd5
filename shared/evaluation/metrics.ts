/**
 * Ranking and rating metrics. Ranks are 0-based (rank 0 is the top). Definitions:
 * - HR@k (hit rate): 1 when the held-out item ranks in the top k.
 * - NDCG@k: DCG / ideal DCG with binary relevance, DCG = sum over hits at rank r of 1/log2(r + 2).
 * - precision@k = hits in the top k / k; recall@k = hits / relevant items.
 * - MAP@k: average over hits at rank r of (hits up to r) / (r + 1), divided by min(k, relevant).
 * - MRR: 1 / (rank of the first relevant item + 1), 0 when none is ranked.
 * - RMSE, MAE over rating predictions; coverage = distinct recommended items / catalog size.
 */

export function hitRate(rank: number, k: number): number {
  return rank < k ? 1 : 0;
}

export function ndcgSingle(rank: number, k: number): number {
  return rank < k ? 1 / Math.log2(rank + 2) : 0;
}

export function reciprocalRank(rank: number): number {
  return Number.isFinite(rank) ? 1 / (rank + 1) : 0;
}

/** Metrics of one ranked list against a set of relevant items. */
export function listMetrics(
  ranked: ArrayLike<number>,
  relevant: ReadonlySet<number>,
  k: number,
): { precision: number; recall: number; ndcg: number; map: number; mrr: number } {
  let hits = 0;
  let dcg = 0;
  let apSum = 0;
  let firstHit = -1;
  const n = Math.min(k, ranked.length);
  for (let r = 0; r < n; r++) {
    if (relevant.has(ranked[r] as number)) {
      hits++;
      dcg += 1 / Math.log2(r + 2);
      apSum += hits / (r + 1);
      if (firstHit < 0) firstHit = r;
    }
  }
  let idcg = 0;
  const ideal = Math.min(k, relevant.size);
  for (let r = 0; r < ideal; r++) idcg += 1 / Math.log2(r + 2);
  return {
    precision: hits / k,
    recall: relevant.size === 0 ? 0 : hits / relevant.size,
    ndcg: idcg === 0 ? 0 : dcg / idcg,
    map: ideal === 0 ? 0 : apSum / ideal,
    mrr: firstHit < 0 ? 0 : 1 / (firstHit + 1),
  };
}

/** Accumulates a mean without keeping the values. */
export class Mean {
  #sum = 0;
  #count = 0;

  add(value: number): void {
    this.#sum += value;
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  get value(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }
}

/** Running RMSE and MAE of predictions. */
export class ErrorStats {
  #squared = 0;
  #absolute = 0;
  #count = 0;

  add(prediction: number, actual: number): void {
    const e = prediction - actual;
    this.#squared += e * e;
    this.#absolute += Math.abs(e);
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  get rmse(): number {
    return this.#count === 0 ? 0 : Math.sqrt(this.#squared / this.#count);
  }

  get mae(): number {
    return this.#count === 0 ? 0 : this.#absolute / this.#count;
  }
}
