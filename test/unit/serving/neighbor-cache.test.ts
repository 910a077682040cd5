import { describe, expect, it } from 'vitest';
import { NeighborCache } from '../../../services/serving/ranking/neighbor-cache.ts';

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

  it('places a changed item in the lists of its neighbours without recomputing any, and takes it out of its old ones', () => {
    // Lists by hand: item -> [neighbour, similarity][] (best first), two entries each.
    const table = new Map<number, [number, number][]>([
      [
        1,
        [
          [2, 0.6],
          [3, 0.5],
        ],
      ],
      [
        2,
        [
          [1, 0.6],
          [3, 0.4],
        ],
      ],
      [
        3,
        [
          [1, 0.5],
          [2, 0.4],
        ],
      ],
      [
        4,
        [
          [1, 0.7],
          [3, 0.45],
        ],
      ],
    ]);
    let computed = 0;
    const c = new NeighborCache({
      compute: (p) => {
        computed++;
        const list = table.get(p) ?? [];
        return { indices: Int32Array.from(list, (e) => e[0]), scores: Float32Array.from(list, (e) => e[1]) };
      },
      size: 2,
    });
    const list = (p: number) => {
      const { indices, scores } = c.of(p);
      return Array.from(indices, (q, j) => [q, Math.round((scores[j] as number) * 100) / 100]);
    };
    for (const p of [1, 2, 3]) c.of(p);
    expect(computed).toBe(3);
    // Item 4 is new: it enters 1's list at the top (2 stays, 3 drops off: two entries) and 3's
    // list second; 2's list is full of better neighbours.
    c.changed(4, { indices: Int32Array.of(1, 3), scores: Float32Array.of(0.7, 0.45) });
    expect(list(1)).toEqual([
      [4, 0.7],
      [2, 0.6],
    ]);
    expect(list(3)).toEqual([
      [1, 0.5],
      [4, 0.45],
    ]);
    expect(list(2)).toEqual([
      [1, 0.6],
      [3, 0.4],
    ]);
    expect(computed).toBe(3);
    // 4's own list is computed when used; then 4 changes to resemble only 2: it leaves the lists
    // of its old neighbours (1, 3), enters 2's, and its own list is dropped.
    list(4);
    expect(computed).toBe(4);
    c.changed(4, { indices: Int32Array.of(2), scores: Float32Array.of(0.9) });
    expect(list(1)).toEqual([[2, 0.6]]);
    expect(list(3)).toEqual([[1, 0.5]]);
    expect(list(2)).toEqual([
      [4, 0.9],
      [1, 0.6],
    ]);
    expect(computed).toBe(4);
    list(4);
    expect(computed).toBe(5);
    // invalidateAll: every list is recomputed when next used.
    c.invalidateAll();
    list(1);
    expect(computed).toBe(6);
    expect(list(1)).toEqual([
      [2, 0.6],
      [3, 0.5],
    ]);
  });
});
