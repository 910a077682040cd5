import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ItemTransitions } from '../../../shared/model/item-transitions.ts';
import { blendScaled } from '../../../shared/evaluation/session-models.ts';

describe('ItemTransitions (the session signal)', () => {
  it('pairs each event with the previous `window` events, closer pairs weighing more', () => {
    // One user, items 0, 1, 2, 3 in that order; window 2, decay 0.5:
    //   1 pairs with 0 (distance 1, weight 1)
    //   2 pairs with 1 (1) and 0 (distance 2, weight 0.5)
    //   3 pairs with 2 (1) and 1 (0.5); 0 is outside the window
    const t = new ItemTransitions({ window: 2, decay: 0.5, recent: 2, recentDecay: 0.5 });
    for (const item of [0, 1, 2, 3]) t.observe(7, item);
    expect(t.weight(0, 1)).toBe(1);
    expect(t.weight(1, 0)).toBe(1);
    expect(t.weight(0, 2)).toBe(0.5);
    expect(t.weight(1, 2)).toBe(1);
    expect(t.weight(1, 3)).toBe(0.5);
    expect(t.weight(2, 3)).toBe(1);
    expect(t.weight(0, 3)).toBe(0);
    // Degrees: 0: 1 + 0.5; 1: 1 + 1 + 0.5; 2: 0.5 + 1 + 1; 3: 1 + 0.5.
    expect([0, 1, 2, 3].map((i) => t.degree(i))).toEqual([1.5, 2.5, 2.5, 1.5]);
    expect(t.recentItems(7)).toEqual([3, 2]);
  });

  it('scores from the latest items with the normalisation worked out by hand', () => {
    const t = new ItemTransitions({ window: 2, decay: 0.5, recent: 2, recentDecay: 0.5 });
    for (const item of [0, 1, 2]) t.observe(1, item);
    // T: (0,1) 1, (1,2) 1, (0,2) 0.5. deg: 0: 1.5, 1: 2, 2: 1.5. Latest first: [2, 1].
    // score(0) = 1   * T[2][0] / sqrt((1.5+1)(1.5+1)) + 0.5 * T[1][0] / sqrt((2+1)(1.5+1))
    //          = 0.5 / 2.5 + 0.5 / sqrt(7.5) = 0.2 + 0.182574 = 0.382574
    // score(1) = 1 * T[2][1] / sqrt(2.5 * 3) + 0.5 * 0 (no self pair) = 1 / sqrt(7.5) = 0.365148
    // score(2) = 0 + 0.5 * T[1][2] / sqrt(3 * 2.5) = 0.182574
    const out = new Float32Array(4).fill(9);
    t.scoreAll(1, out);
    expect(out[0]).toBeCloseTo(0.382574, 5);
    expect(out[1]).toBeCloseTo(0.365148, 5);
    expect(out[2]).toBeCloseTo(0.182574, 5);
    expect(out[3]).toBe(0);
    // A user with no history gets zeros, not an error.
    t.scoreAll(99, out);
    expect(Array.from(out)).toEqual([0, 0, 0, 0]);
  });

  it('keeps users apart and never pairs an item with itself', () => {
    const t = new ItemTransitions({ window: 5, decay: 1 });
    t.observe(1, 0);
    t.observe(2, 1);
    t.observe(1, 0);
    expect(t.weight(0, 1)).toBe(0);
    expect(t.weight(0, 0)).toBe(0);
    t.observe(2, 2);
    expect(t.weight(1, 2)).toBe(1);
  });

  it('ignores non-finite and non-positive weights', () => {
    const t = new ItemTransitions();
    t.observe(1, 0);
    t.observe(1, 1, Number.NaN);
    t.observe(1, 2, -1);
    t.observe(1, 3, Number.POSITIVE_INFINITY);
    expect(t.degree(0)).toBe(0);
    expect(t.recentItems(1)).toEqual([0]);
  });

  it('prunes a row past twice maxNeighbors to its strongest neighbours', () => {
    const t = new ItemTransitions({ window: 1, decay: 1, maxNeighbors: 2 });
    // Item 0 follows items 1..5 in five users' streams; item 3 three times more.
    const follows = [1, 2, 3, 3, 3, 4, 5];
    follows.forEach((item, user) => {
      t.observe(user, item);
      t.observe(user, 0);
    });
    // Row 0 reached 5 neighbours (> 4) and was pruned to the strongest 2: 3 (weight 3) and 1
    // (weight 1, the lower id among the ties), then 4 and 5 arrived again.
    expect(t.weight(0, 3)).toBe(3);
    expect(t.weight(0, 2)).toBe(0);
    expect(t.neighbors(0, 1).indices[0]).toBe(3);
  });

  it('restores from its state to the same scores', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 30 })), {
          maxLength: 200,
        }),
        (events) => {
          const t = new ItemTransitions({ window: 4, decay: 0.8, maxNeighbors: 6 });
          for (const [user, item] of events) t.observe(user, item);
          const copy = ItemTransitions.fromState(t.toState());
          const a = new Float32Array(31);
          const b = new Float32Array(31);
          for (let user = 0; user <= 5; user++) {
            t.scoreAll(user, a);
            copy.scoreAll(user, b);
            expect(Array.from(b)).toEqual(Array.from(a));
          }
          // And it keeps learning the same way.
          t.observe(0, 7);
          copy.observe(0, 7);
          expect(copy.degree(7)).toBe(t.degree(7));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('rejects settings that make no sense', () => {
    expect(() => new ItemTransitions({ window: 0 })).toThrow(RangeError);
    expect(() => new ItemTransitions({ decay: 0 })).toThrow(RangeError);
    expect(() => new ItemTransitions({ recentDecay: 1.5 })).toThrow(RangeError);
    expect(() => new ItemTransitions({ maxNeighbors: -1 })).toThrow(RangeError);
  });
});

describe('blendScaled (hybrid = MF + weight x session)', () => {
  it('maps MF from its mean (0) to its maximum (1) and the session signal from 0 to its maximum', () => {
    // MF [1, 2, 3, 6]: mean 3, max 6 -> (s - 3) / 3 = [-2/3, -1/3, 0, 1]
    // session [0, 4, 2, 0]: / 4 -> [0, 1, 0.5, 0], times weight 2 -> [0, 2, 1, 0]
    const mf = Float32Array.of(1, 2, 3, 6);
    blendScaled(mf, Float32Array.of(0, 4, 2, 0), 2);
    const expected = [-2 / 3, -1 / 3 + 2, 0 + 1, 1];
    expected.forEach((v, i) => expect(mf[i]).toBeCloseTo(v, 6));
  });

  it('leaves a flat side out instead of dividing by zero', () => {
    const mf = Float32Array.of(2, 2, 2);
    blendScaled(mf, new Float32Array(3), 1);
    expect(Array.from(mf)).toEqual([0, 0, 0]);
  });
});
