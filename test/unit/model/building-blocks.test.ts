import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContentIndex } from '../../../shared/model/content-similarity.ts';
import { ContextEncoder } from '../../../shared/model/context.ts';
import { featuresOf } from '../../../shared/model/features.ts';
import { rankAmong } from '../../../shared/model/rank.ts';
import { logAdd2, popularityLogScore, relativeToTop } from '../../../shared/model/popularity.ts';
import { Random, hashString, initialVector } from '../../../shared/model/random.ts';
import { BruteForceTopK, selectTopK } from '../../../shared/model/topk.ts';
import { Stamps } from '../../../shared/model/stamps.ts';
import { UserHistory } from '../../../shared/model/user-history.ts';

describe('selectTopK', () => {
  it('returns the k best in order, ties by lower index, skipping what it is told to', () => {
    const scores = Float32Array.of(0.5, 3, 3, -1, 2, Number.NaN, 7);
    const top = selectTopK(scores, 3);
    expect(Array.from(top.indices)).toEqual([6, 1, 2]);
    expect(Array.from(top.scores)).toEqual([7, 3, 3]);
    expect(Array.from(selectTopK(scores, 3, scores.length, (i) => i === 6).indices)).toEqual([1, 2, 4]);
    expect(Array.from(selectTopK(scores, 0).indices)).toEqual([]);
  });

  it('agrees with a full sort on any input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 200 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 5 }),
        (values, k, every) => {
          const skip = (i: number) => i % every === 1;
          const best = (keep: (i: number) => boolean) =>
            values
              .map((v, i) => ({ v, i }))
              .filter((x) => keep(x.i))
              .sort((a, b) => b.v - a.v || a.i - b.i)
              .slice(0, k)
              .map((x) => x.i);
          expect(Array.from(selectTopK(Float64Array.from(values), k).indices)).toEqual(best(() => true));
          expect(Array.from(selectTopK(Float64Array.from(values), k, values.length, skip).indices)).toEqual(
            best((i) => !skip(i)),
          );
        },
      ),
    );
  });

  it('brute-force search scores by inner product plus bias', () => {
    const vectors = Float32Array.of(1, 0, 0, 1, 1, 1);
    const search = new BruteForceTopK(() => ({
      vectors,
      count: 3,
      dim: 2,
      biases: Float32Array.of(0, 0.5, -1),
    }));
    // query [2, 1]: scores 2, 1.5, 2
    const top = search.search(Float32Array.of(2, 1), 2);
    expect(Array.from(top.indices)).toEqual([0, 2]);
  });
});

describe('popularity in the log domain', () => {
  it('halves an interaction per half-life, and sums values by their logarithms', () => {
    // 4 at t = 0 with h = 10: log2(4) + 0 = 2; 1 at t = 30: 0 + 3 = 3.
    expect(popularityLogScore(4, 0, 0, 10)).toBe(2);
    expect(popularityLogScore(1, 30, 0, 10)).toBe(3);
    // 2^2 + 2^3 = 12: log2(12) = 3.5849625
    expect(logAdd2(2, 3)).toBeCloseTo(3.5849625, 7);
    expect(logAdd2(3, 2)).toBe(logAdd2(2, 3));
    expect(logAdd2(Number.NEGATIVE_INFINITY, 5)).toBe(5);
    // Equal values double: + 1.
    expect(logAdd2(-7, -7)).toBe(-6);
  });

  it('keeps far-off times apart where linear scores would be 0 or infinite', () => {
    const week = 7 * 86_400_000;
    const epoch = Date.UTC(2026, 0, 1);
    // MovieLens 100K is from 1997: ~1,500 half-lives before the epoch, 2^-1500 is 0 in float64.
    const older = popularityLogScore(1, Date.UTC(1997, 8, 20), epoch, week);
    const newer = popularityLogScore(1, Date.UTC(1997, 8, 27), epoch, week);
    expect(2 ** older).toBe(0);
    expect(newer - older).toBeCloseTo(1, 9);
    // Two clicks a week earlier weigh as one click now.
    expect(logAdd2(older, older)).toBeCloseTo(newer, 9);
  });

  it('turns a best-first list into scores relative to its top', () => {
    expect(relativeToTop([{ score: 10 }, { score: 9 }, { score: 7 }]).map((e) => e.score)).toEqual([
      1, 0.5, 0.125,
    ]);
  });
});

describe('ContentIndex', () => {
  it('scores cosine similarity of TF-IDF weighted features', () => {
    const index = new ContentIndex();
    index.setItem(0, featuresOf({ tags: ['jazz', 'live'] }));
    index.setItem(1, featuresOf({ tags: ['jazz'] }));
    index.setItem(2, featuresOf({ tags: ['metal'] }));
    // idf(jazz) = ln(4/3) + 1; idf(live) = ln(4/2) + 1
    const jazz = Math.log(4 / 3) + 1;
    const live = Math.log(2) + 1;
    expect(index.similarity(0, 1)).toBeCloseTo(jazz / Math.sqrt(jazz * jazz + live * live), 9);
    expect(index.similarity(0, 2)).toBe(0);
    expect(Array.from(index.similar(1, 5).indices)).toEqual([0]);
  });

  it('finds content neighbours of a set of items, including never-clicked ones', () => {
    const index = new ContentIndex();
    index.setItem(0, featuresOf({ tags: ['a'], categories: ['x'] }));
    index.setItem(1, featuresOf({ tags: ['b'], categories: ['y'] }));
    index.setItem(2, featuresOf({ tags: ['a'], categories: ['x'] }));
    index.setItem(3, featuresOf({ tags: ['b'] }));
    const near = index.similarToItems([{ item: 0, weight: 1 }], 2, (i) => i === 0);
    expect(near.indices[0]).toBe(2);
    expect(near.scores[0]).toBeCloseTo(1, 6);
    index.setItem(2, featuresOf({ tags: ['b'] })); // features replaced
    expect(index.similarity(0, 2)).toBe(0);
  });

  it('refreshes the norms after changes a bounded step per query, reaching the exact cosine', () => {
    const index = new ContentIndex();
    const n = 10_000;
    // Each item's norm is computed when it is set, with the IDF of that moment; items 9000 and
    // 9010 have the same features, so with norms of the final IDF their cosine is exactly 1.
    for (let i = 0; i < n; i++) index.setItem(i, featuresOf({ tags: ['common', `t${i % 10}`] }));
    const same = () => index.similarity(9000, 9010);
    const drift = Math.abs(same() - 1);
    // That query started a refresh pass but recomputed only the first 4,096 norms, the second
    // query the next 4,096: 9000 and 9010 still carry the IDF of when they were set.
    expect(drift).toBeGreaterThan(1e-6);
    expect(Math.abs(same() - 1)).toBe(drift);
    // The third step reaches them.
    expect(same()).toBeCloseTo(1, 12);
  });
});

describe('ContextEncoder', () => {
  it('buckets hours and days and lower-cases fields, using the event time when context lacks them', () => {
    const encoder = new ContextEncoder({ fields: ['locale'] });
    expect(encoder.fields).toEqual(['hour', 'dow', 'device', 'locale']);
    // 2026-11-25 is a Wednesday; 21:30 UTC is evening.
    const time = Date.parse('2026-11-25T21:30:00Z');
    expect(encoder.encode({ device: 'Mobile' }, time)).toEqual([
      'hour=evening',
      'dow=weekday',
      'device=mobile',
      'locale=?',
    ]);
    expect(encoder.encode({ hour: 3, dow: 6, locale: 'fr-FR' }, time)).toEqual([
      'hour=night',
      'dow=weekend',
      'device=?',
      'locale=fr-fr',
    ]);
    expect(encoder.segment({ device: 'tv', hour: 13 }, 0)).toBe('device=tv|hour=afternoon');
  });
});

describe('random, history and features', () => {
  it('draws the same sequence for a seed and initial rows as a function of (seed, table, id)', () => {
    const a = new Random(42);
    const b = new Random(42);
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(Array.from({ length: 5 }, () => b.next()));
    expect(hashString('item-1', 7)).toBe(hashString('item-1', 7));
    expect(hashString('item-1', 7)).not.toBe(hashString('item-2', 7));
    const x = initialVector(new Float32Array(4), 1, 'mf:item', 'i', 0.1);
    expect(initialVector(new Float32Array(4), 1, 'mf:item', 'i', 0.1)).toEqual(x);
    expect(initialVector(new Float32Array(4), 1, 'mf:user', 'i', 0.1)).not.toEqual(x);
    // A mean near 0 and a spread near 1 over many normals.
    const r = new Random(1);
    const draws = Array.from({ length: 20_000 }, () => r.normal());
    const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
    const sd = Math.sqrt(draws.reduce((s, v) => s + (v - mean) ** 2, 0) / draws.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
  });

  it('keeps the most recent items per user, bounded', () => {
    const history = new UserHistory(3);
    for (const item of [1, 2, 3, 4, 2]) history.add(0, item);
    expect(history.items(0)).toEqual([2, 3, 4]);
    expect(history.has(0, 1)).toBe(false);
    expect(UserHistory.fromState(history.toState()).items(0)).toEqual([2, 3, 4]);
  });

  it('turns tags, categories and attributes into namespaced features', () => {
    expect(
      featuresOf({
        tags: ['Jazz'],
        categories: ['Music'],
        attributes: { year: 1999, country: 'FR', live: true, zero: 0, score: -0.25, debt: -7 },
      }),
    ).toEqual([
      { key: 'tag:jazz', weight: 1 },
      { key: 'cat:music', weight: 1 },
      { key: 'num:year', weight: 1 },
      { key: 'attr:country=fr', weight: 1 },
      { key: 'attr:live=true', weight: 1 },
      { key: 'num:score', weight: -0.25 },
      { key: 'num:debt', weight: -1 },
    ]);
  });
});

describe('UserHistory pools', () => {
  it('keeps the latest `capacity` items per user through growth, wrap-around and many users', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 60 })), {
          maxLength: 600,
        }),
        (capacity, events) => {
          const history = new UserHistory(capacity);
          const expected = new Map<number, number[]>();
          for (const [user, item] of events) {
            history.add(user, item);
            const list = expected.get(user) ?? [];
            if (!list.includes(item)) {
              list.push(item);
              if (list.length > capacity) list.shift();
            }
            expected.set(user, list);
          }
          for (let user = 0; user <= 31; user++) {
            const list = expected.get(user) ?? [];
            expect(history.items(user)).toEqual(list);
            expect(history.size(user)).toBe(list.length);
            for (let item = 0; item <= 60; item++) expect(history.has(user, item)).toBe(list.includes(item));
          }
          const copy = UserHistory.fromState(history.toState());
          for (let user = 0; user <= 31; user++) expect(copy.items(user)).toEqual(history.items(user));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('Stamps', () => {
  it('marks positions for one round only, growing as needed', () => {
    const stamps = new Stamps();
    stamps.next(4);
    stamps.mark(1);
    stamps.mark(-1);
    expect([0, 1, 2, 3].map((p) => stamps.has(p))).toEqual([false, true, false, false]);
    stamps.fit(5000);
    stamps.mark(4999);
    expect(stamps.has(4999)).toBe(true);
    expect(stamps.has(1)).toBe(true);
    stamps.next(4);
    expect(stamps.has(1)).toBe(false);
    expect(stamps.has(4999)).toBe(false);
  });
});

describe('rankAmong (the one tie rule)', () => {
  it('counts the scores above the target and draws its place among equal ones', () => {
    const scores = [0.5, 0.9, 0.5, 0.5, 0.1, 0.7];
    const random = new Random(3);
    // Above 0.5: 0.9 and 0.7; tied: two others, so ranks 2, 3 or 4, each a third of the time.
    const seen = new Map<number, number>();
    for (let i = 0; i < 3_000; i++) {
      const rank = rankAmong(0.5, scores, 1, scores.length, random);
      seen.set(rank, (seen.get(rank) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual([2, 3, 4]);
    for (const count of seen.values()) expect(count).toBeGreaterThan(850);
    // Left out: the 0.9 and one tie.
    expect(
      rankAmong(0.5, scores, 1, scores.length, random, (i) => i === 1 || i === 2),
    ).toBeGreaterThanOrEqual(1);
    expect(rankAmong(0.5, scores, 1, scores.length, random, (i) => i === 1 || i === 2)).toBeLessThanOrEqual(
      2,
    );
    expect(rankAmong(1, scores, 0, scores.length, random)).toBe(0);
  });
});
