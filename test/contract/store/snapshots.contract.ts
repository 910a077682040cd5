import { describe, expect, it } from 'vitest';
import {
  CATALOG_STREAM,
  MODEL_TABLES,
  type ModelStore,
  type SnapshotEntry,
} from '../../../shared/ports/index.ts';
import { storeUnderTest, vec, value, type ModelStoreFixture } from './fixture.ts';

/** The behaviour every adapter's SnapshotStore part must have (run against memory and Redis). */
export function describeSnapshotContract(name: string, open: () => Promise<ModelStoreFixture>): void {
  describe(`SnapshotStore contract: ${name}`, () => {
    const t = storeUnderTest(open);

    it('exports a snapshot that restores, into an empty t.store, to the same state', async () => {
      await t.store.commit({
        offsets: [{ scope: 'g-mf', partition: 2, fromOffset: 0, nextOffset: 17 }],
        puts: [
          {
            table: 'mf:user',
            rows: [{ id: 'u:1*', value: value(vec(0.5, -1.25), 0.25, 3, 1_700_000_000_001) }],
          },
          { table: 'ncf:gmf:item', rows: [{ id: 'i[1]', value: value(vec(2, 4), 0, 1, 5) }] },
        ],
        counters: [
          { name: 'events:mf', field: 'u:1*', by: 3 },
          { name: 'quality', field: 'mf:hits', by: 2 },
        ],
        history: [{ userId: 'u:1*', items: ['a', 'b:c'] }],
        newItems: { registry: 'mf', ids: ['a', 'b:c'] },
        popularity: [
          { segment: 'device=mobile|hour=evening', itemId: 'a', by: 1.5 },
          { segment: '*', itemId: 'b:c', by: 2 },
        ],
        transitions: {
          limit: 10,
          increments: [
            { itemId: 'a', neighborId: 'b:c', by: 0.75 },
            { itemId: 'b:c', neighborId: 'a', by: 0.75 },
          ],
        },
      });
      await t.store.putRows('mf:user', [
        { id: 'u:1*', value: value(vec(0.75, -1), 0.5, 4, 1_700_000_000_002) },
      ]);
      await t.store.putItems([{ id: 'b:c', record: { itemId: 'b:c', tags: ['x'] } }]);
      await t.store.putUsers([{ id: 'u:1*', record: { userId: 'u:1*', tags: ['y'] } }]);

      const collect = async (from: ModelStore): Promise<SnapshotEntry[]> => {
        const out: SnapshotEntry[] = [];
        for await (const entry of from.snapshot(MODEL_TABLES)) out.push(entry);
        return out.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
      };
      const exported = await collect(t.store);
      expect(exported.map((e) => e.kind).sort()).toEqual([
        'counter',
        'counter',
        'history',
        'item',
        'offsets',
        'popularity',
        'popularity',
        'registry',
        'row',
        'row',
        'transitions',
        'transitions',
        'user',
      ]);
      const target = await t.fixture.fresh();
      t.extra.push(target);
      await target.restore(exported);
      expect(await collect(target)).toEqual(exported);
      // And through the ordinary reads:
      const [row] = await target.getRows('mf:user', ['u:1*']);
      expect(Array.from(row!.vector)).toEqual([0.75, -1]);
      expect(row).toMatchObject({ bias: 0.5, count: 4, version: 2, updatedAt: 1_700_000_000_002 });
      expect(await target.getOffsets('g-mf')).toEqual(new Map([[2, 17]]));
      expect(await target.getCounters('quality', ['mf:hits'])).toEqual([2]);
      expect(await target.getHistories(['u:1*'])).toEqual([['a', 'b:c']]);
      expect(await target.getItemRegistry('mf', 0)).toEqual(['a', 'b:c']);
      expect(await target.getPopular('device=mobile|hour=evening', 5)).toEqual([{ itemId: 'a', score: 1.5 }]);
      expect(await target.getTransitions(['a'])).toEqual([
        { degree: 0.75, neighbors: [{ itemId: 'b:c', weight: 0.75 }] },
      ]);
      expect(await target.listItemIds()).toEqual(['b:c']);
      expect(await target.getUsers(['u:1*'])).toEqual([{ userId: 'u:1*', tags: ['y'] }]);
      const changes = await target.readItemChanges(CATALOG_STREAM, '0', 10);
      expect(changes.flatMap((c) => c.items)).toContain('b:c');
      // Training continues where the snapshot left off: the next batch is not fenced, a known
      // item is not registered twice.
      const next = await target.commit({
        offsets: [{ scope: 'g-mf', partition: 2, fromOffset: 17, nextOffset: 18 }],
        newItems: { registry: 'mf', ids: ['b:c', 'd'] },
      });
      expect(next.status).toBe('committed');
      expect(await target.getItemRegistry('mf', 0)).toEqual(['a', 'b:c', 'd']);
    });
  });
}
