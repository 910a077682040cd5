import { describe, expect, it } from 'vitest';
import { TRANSITIONS_STREAM } from '../../../shared/ports/index.ts';
import { storeUnderTest, vec, value, type ModelStoreFixture } from './fixture.ts';

/** The behaviour every adapter's ServingReads part must have (run against memory and Redis). */
export function describeServingReadsContract(name: string, open: () => Promise<ModelStoreFixture>): void {
  describe(`ServingReads contract: ${name}`, () => {
    const t = storeUnderTest(open);

    it("reads a user's rows, history and record in one call, as the separate reads give them", async () => {
      const user = 'u:1é*';
      await t.store.putRows('mf:user', [{ id: user, value: value(vec(1.5, -2), 0.25, 3, 1_234) }]);
      await t.store.putRows('ncf:mlp:user', [{ id: user, value: value(vec(7), 0, 2, 99) }]);
      await t.store.putRows('mf:user', [{ id: 'other', value: value(vec(9, 9)) }]);
      await t.store.commit({ history: [{ userId: user, items: ['a', 'b:c', 'ü'] }] });
      await t.store.putUsers([
        { id: user, record: { userId: user, tags: ['jazz'], attributes: { country: 'FR' } } },
      ]);

      const state = await t.store.getUserState(user, ['mf:user', 'ncf:gmf:user', 'ncf:mlp:user']);
      const [mf, gmf, mlp] = state.rows;
      expect(Array.from(mf!.vector)).toEqual([1.5, -2]);
      expect(mf).toMatchObject({ bias: 0.25, count: 3, updatedAt: 1_234, version: 1 });
      expect(gmf).toBeUndefined();
      expect(Array.from(mlp!.vector)).toEqual([7]);
      expect(state.history).toEqual(['a', 'b:c', 'ü']);
      expect(state.record).toEqual({ userId: user, tags: ['jazz'], attributes: { country: 'FR' } });
      // The same as the separate reads.
      expect(state.rows).toEqual([
        (await t.store.getRows('mf:user', [user]))[0],
        undefined,
        (await t.store.getRows('ncf:mlp:user', [user]))[0],
      ]);
      expect(state.history).toEqual((await t.store.getHistories([user]))[0]);
      expect(state.record).toEqual((await t.store.getUsers([user]))[0]);

      const stranger = await t.store.getUserState('nobody', ['mf:user']);
      expect(stranger).toEqual({ rows: [undefined], history: [], record: undefined });
      expect((await t.store.getUserState(user, [])).rows).toEqual([]);
    });

    it('appends user histories and keeps the latest 100, oldest first', async () => {
      const items = Array.from({ length: 105 }, (_, i) => `i${i}`);
      await t.store.commit({ history: [{ userId: 'u1', items: items.slice(0, 60) }] });
      await t.store.commit({
        history: [
          { userId: 'u1', items: items.slice(60) },
          { userId: 'u2', items: ['x'] },
        ],
      });
      const [u1, u2, u3] = await t.store.getHistories(['u1', 'u2', 'nobody']);
      expect(u1).toEqual(items.slice(5));
      expect(u2).toEqual(['x']);
      expect(u3).toEqual([]);
    });

    it('adds popularity per segment in the log domain and returns the best first', async () => {
      await t.store.commit({
        popularity: [
          { segment: '*', itemId: 'a', by: 1 },
          { segment: '*', itemId: 'b', by: 2.5 },
          { segment: 'device=tv', itemId: 'a', by: 4 },
          // 1997 on a 2026 epoch with a week's half-life: 2^-1500 is 0 as a linear score.
          { segment: 'old', itemId: 'x', by: -1500 },
          { segment: 'old', itemId: 'y', by: -1500.5 },
        ],
      });
      await t.store.commit({
        popularity: [
          { segment: '*', itemId: 'a', by: 2 },
          { segment: 'old', itemId: 'y', by: -1500.5 },
        ],
      });
      // log2(2^1 + 2^2) = log2(6) = 2.5849625
      const all = await t.store.getPopular('*', 5);
      expect(all.map((e) => e.itemId)).toEqual(['a', 'b']);
      expect(all[0]?.score).toBeCloseTo(2.5849625, 6);
      expect(all[1]?.score).toBe(2.5);
      expect(await t.store.getPopular('device=tv', 1)).toEqual([{ itemId: 'a', score: 4 }]);
      // Two at -1500.5 make one at -1499.5: ahead of the single -1500.
      const old = await t.store.getPopular('old', 2);
      expect(old.map((e) => e.itemId)).toEqual(['y', 'x']);
      expect(old[0]?.score).toBeCloseTo(-1499.5, 9);
      expect(await t.store.getPopular('device=radio', 3)).toEqual([]);
    });

    it('adds transition weights, keeps each degree whole and streams the changed items', async () => {
      await t.store.commit({
        transitions: {
          limit: 10,
          increments: [
            { itemId: 'a', neighborId: 'b', by: 1 },
            { itemId: 'b', neighborId: 'a', by: 1 },
            { itemId: 'a', neighborId: 'c', by: 0.5 },
            { itemId: 'a', neighborId: 'b', by: 0.25 },
          ],
        },
      });
      await t.store.commit({
        transitions: { limit: 10, increments: [{ itemId: 'a', neighborId: 'c', by: 2 }] },
      });
      expect(await t.store.getTransitions(['a', 'b', 'none'])).toEqual([
        // a: b 1 + 0.25, c 0.5 + 2; degree 1 + 0.5 + 0.25 + 2.
        {
          degree: 3.75,
          neighbors: [
            { itemId: 'c', weight: 2.5 },
            { itemId: 'b', weight: 1.25 },
          ],
        },
        { degree: 1, neighbors: [{ itemId: 'a', weight: 1 }] },
        undefined,
      ]);
      const changes = await t.store.readItemChanges(TRANSITIONS_STREAM, '0', 10);
      expect(changes.map((c) => [...c.items].sort())).toEqual([['a', 'b'], ['a']]);
    });

    it('trims a transition list past twice its limit to the strongest, the degree untouched', async () => {
      // Limit 2: five neighbours (more than 2 * 2) leave the strongest two; four would stay.
      const increments = [1, 2, 3, 4].map((w) => ({ itemId: 'x', neighborId: `n${w}`, by: w }));
      await t.store.commit({ transitions: { limit: 2, increments } });
      expect((await t.store.getTransitions(['x']))[0]?.neighbors).toHaveLength(4);
      await t.store.commit({
        transitions: { limit: 2, increments: [{ itemId: 'x', neighborId: 'n5', by: 5 }] },
      });
      expect(await t.store.getTransitions(['x'])).toEqual([
        {
          degree: 15,
          neighbors: [
            { itemId: 'n5', weight: 5 },
            { itemId: 'n4', weight: 4 },
          ],
        },
      ]);
      // A neighbour trimmed away starts again from its new additions.
      await t.store.commit({
        transitions: { limit: 2, increments: [{ itemId: 'x', neighborId: 'n1', by: 4.5 }] },
      });
      expect((await t.store.getTransitions(['x']))[0]).toEqual({
        degree: 19.5,
        neighbors: [
          { itemId: 'n5', weight: 5 },
          { itemId: 'n1', weight: 4.5 },
          { itemId: 'n4', weight: 4 },
        ],
      });
    });
  });
}
