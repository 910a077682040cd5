import { describe, expect, it } from 'vitest';
import { NeighborCache } from '../../../services/serving/neighbor-cache.ts';

const turn = () => new Promise((r) => setImmediate(r));

/** Item p's neighbours: p + 100 (score 0.5) and p + 200 (score 0.25), or what `version` says. */
function cache(version = { value: 0 }) {
  const computed: number[] = [];
  const c = new NeighborCache({
    compute: (p) => {
      computed.push(p);
      return {
        indices: Int32Array.of(p + 100 + version.value, p + 200),
        scores: Float32Array.of(0.5, 0.25),
      };
    },
    generation: () => version.value,
  });
  return { c, computed, version };
}

function near(c: NeighborCache, items: number[], budget: number): Map<number, number> {
  const out = new Map<number, number>();
  c.nearInto(
    items,
    items.map(() => 1),
    100,
    () => false,
    (p, s) => out.set(p, s),
    budget,
  );
  return out;
}

describe('NeighborCache', () => {
  it('computes at most `budget` lists in a request (latest items first) and the rest in the background', async () => {
    const { c, computed } = cache();
    const first = near(c, [1, 2, 3, 4, 5], 2);
    expect(computed).toEqual([5, 4]);
    expect([...first.keys()].sort((a, b) => a - b)).toEqual([104, 105, 204, 205]);
    expect(c.queued).toBe(3);
    for (let i = 0; i < 5 && c.queued > 0; i++) await turn();
    expect(c.queued).toBe(0);
    expect(computed.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    // Everything cached now: nothing computed, every item counts.
    const second = near(c, [1, 2, 3, 4, 5], 0);
    expect(second.size).toBe(10);
    expect(computed).toHaveLength(5);
  });

  it('keeps answering from an outdated list while the background recomputes it', async () => {
    const { c, computed, version } = cache();
    near(c, [1], 1);
    version.value = 1; // e.g. the catalog changed
    const stale = near(c, [1], 0);
    expect([...stale.keys()]).toContain(101);
    expect(computed).toEqual([1]);
    await turn();
    const fresh = near(c, [1], 0);
    expect([...fresh.keys()]).toContain(102);
    expect(computed).toEqual([1, 1]);
  });

  it('computes everything at once without a budget (the default)', () => {
    const { c, computed } = cache();
    const out = new Map<number, number>();
    c.nearInto(
      [7, 8],
      [1, 0.5],
      10,
      () => false,
      (p, s) => out.set(p, s),
    );
    expect(computed.sort()).toEqual([7, 8]);
    // The largest weight x similarity wins: 107 -> 0.5, 108 -> 0.5 * 0.5.
    expect(out.get(107)).toBeCloseTo(0.5, 6);
    expect(out.get(108)).toBeCloseTo(0.25, 6);
  });
});
