import { describe, expect, it } from 'vitest';
import { CATALOG_STREAM } from '../../../shared/ports/index.ts';
import { storeUnderTest, type ModelStoreFixture } from './fixture.ts';

/** The behaviour every adapter's ChangeFeeds part must have (run against memory and Redis). */
export function describeChangeFeedsContract(name: string, open: () => Promise<ModelStoreFixture>): void {
  describe(`ChangeFeeds contract: ${name}`, () => {
    const t = storeUnderTest(open);

    it('streams changed item ids in order and resumes after a position', async () => {
      await t.store.commit({ changedItems: { stream: 'mf', ids: ['a', 'b'] } });
      await t.store.commit({ changedItems: { stream: 'mf', ids: ['c'] } });
      await t.store.commit({ changedItems: { stream: 'neumf', ids: ['d'] } });
      const all = await t.store.readItemChanges('mf', '0', 10);
      expect(all.map((e) => e.items)).toEqual([['a', 'b'], ['c']]);
      expect((await t.store.readItemChanges('mf', all[0]!.id, 10)).map((e) => e.items)).toEqual([['c']]);
      expect(await t.store.readItemChanges('mf', all[1]!.id, 10)).toEqual([]);
      expect((await t.store.readItemChanges('neumf', '0', 10)).map((e) => e.items)).toEqual([['d']]);
    });

    it('appends catalog writes and deletions to the catalog change stream', async () => {
      await t.store.putItems([
        { id: 'c1', record: { itemId: 'c1' } },
        { id: 'c2', record: { itemId: 'c2' } },
      ]);
      expect(await t.store.deleteItem('c1')).toBe(true);
      expect(await t.store.deleteItem('c1')).toBe(false);
      const changes = await t.store.readItemChanges(CATALOG_STREAM, '0', 10);
      expect(changes.map((c) => c.items)).toEqual([['c1', 'c2'], ['c1']]);
      const first = changes[0] as { id: string };
      expect((await t.store.readItemChanges(CATALOG_STREAM, first.id, 10)).map((c) => c.items)).toEqual([
        ['c1'],
      ]);
    });
  });
}
