import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ranking } from '../../../services/serving/ranking/ranking.ts';

/** The order by definition: score descending, ties by item id ascending. */
function reference(scores: readonly number[], ids: readonly string[]): number[] {
  return scores
    .map((s, p) => ({ s: Math.fround(s), p }))
    .sort((a, b) => {
      const x = ids[a.p] as string;
      const y = ids[b.p] as string;
      return b.s - a.s || (x < y ? -1 : x > y ? 1 : 0);
    })
    .map((e) => e.p);
}

function build(scores: readonly number[], ids: readonly string[]): Ranking {
  const n = scores.length;
  return new Ranking(
    Int32Array.from({ length: n }, (_, p) => p),
    Float32Array.from(scores),
    Uint8Array.from({ length: n }, (_, p) => p % 5),
    (p) => ids[p] as string,
  );
}

describe('Ranking (lazily sorted pages)', () => {
  it('puts in order only the prefix a page needs, and that prefix is final', () => {
    const scores = Array.from({ length: 400 }, (_, p) => (p * 37) % 101);
    const ids = scores.map((_, p) => `item-${String(p).padStart(3, '0')}`);
    const ranking = build(scores, ids);
    ranking.sortTo(10);
    expect(ranking.sorted).toBe(10);
    const want = reference(scores, ids);
    expect(Array.from(ranking.positions.subarray(0, 10))).toEqual(want.slice(0, 10));
    ranking.sortTo();
    expect(Array.from(ranking.positions)).toEqual(want);
    // Scores and sources moved with their items.
    ranking.positions.forEach((p, j) => {
      expect(ranking.scores[j]).toBe(Math.fround(scores[p] as number));
      expect(ranking.sources[j]).toBe(p % 5);
    });
  });

  it('agrees with a full sort whatever pages are read, in any order, with many ties', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 300 }),
        fc.array(fc.integer({ min: 0, max: 320 }), { maxLength: 6 }),
        (values, pages) => {
          const scores = values.map((v) => v / 4);
          // Ids whose order is not the position order.
          const ids = scores.map((_, p) => `x${(p * 7919) % 10007}`);
          const ranking = build(scores, ids);
          const want = reference(scores, ids);
          for (const end of pages) {
            ranking.sortTo(end);
            const settled = Math.min(end, scores.length);
            expect(ranking.sorted).toBeGreaterThanOrEqual(settled);
            expect(Array.from(ranking.positions.subarray(0, settled))).toEqual(want.slice(0, settled));
          }
          ranking.sortTo();
          expect(Array.from(ranking.positions)).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('filters in final order', () => {
    const scores = [1, 5, 3, 5, 2];
    const ids = ['e', 'd', 'c', 'b', 'a'];
    const kept = build(scores, ids).filter((p) => p !== 2);
    expect(Array.from(kept.positions)).toEqual([3, 1, 4, 0]);
    expect(kept.sorted).toBe(4);
  });
});
