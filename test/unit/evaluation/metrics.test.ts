import { describe, expect, it } from 'vitest';
import {
  ErrorStats,
  Mean,
  hitRate,
  listMetrics,
  ndcgSingle,
  reciprocalRank,
} from '../../../shared/evaluation/metrics.ts';

describe('ranking metrics', () => {
  it('single held-out item: HR, NDCG and MRR by rank', () => {
    expect(hitRate(0, 10)).toBe(1);
    expect(hitRate(9, 10)).toBe(1);
    expect(hitRate(10, 10)).toBe(0);
    expect(ndcgSingle(0, 10)).toBe(1);
    expect(ndcgSingle(2, 10)).toBeCloseTo(0.5, 12); // 1 / log2(4)
    expect(ndcgSingle(10, 10)).toBe(0);
    expect(reciprocalRank(3)).toBe(0.25);
  });

  it('a ranked list against a relevant set (worked by hand)', () => {
    // ranked [5, 3, 9, 1], relevant {3, 1, 7}, k = 4: hits at ranks 1 and 3.
    // precision 2/4; recall 2/3; DCG = 1/log2(3) + 1/log2(5) = 0.6309298 + 0.4306766 = 1.0616064
    // IDCG (3 relevant) = 1 + 0.6309298 + 0.5 = 2.1309298; NDCG = 0.4981893
    // AP = (1/2 + 2/4) / min(4, 3) = 1/3; MRR = 1/2
    const m = listMetrics([5, 3, 9, 1], new Set([3, 1, 7]), 4);
    expect(m.precision).toBe(0.5);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.ndcg).toBeCloseTo(0.4981893, 6);
    expect(m.map).toBeCloseTo(1 / 3, 12);
    expect(m.mrr).toBe(0.5);
    expect(listMetrics([1, 2], new Set([1, 2]), 2)).toEqual({
      precision: 1,
      recall: 1,
      ndcg: 1,
      map: 1,
      mrr: 1,
    });
    expect(listMetrics([4, 5], new Set([1]), 2)).toEqual({
      precision: 0,
      recall: 0,
      ndcg: 0,
      map: 0,
      mrr: 0,
    });
  });

  it('RMSE and MAE, and a running mean', () => {
    const e = new ErrorStats();
    e.add(3, 4);
    e.add(5, 2); // errors -1 and 3: RMSE sqrt(5) MAE 2
    expect(e.rmse).toBeCloseTo(Math.sqrt(5), 12);
    expect(e.mae).toBe(2);
    const mean = new Mean();
    [1, 2, 6].forEach((v) => mean.add(v));
    expect(mean.value).toBe(3);
    expect(new Mean().value).toBe(0);
  });
});
