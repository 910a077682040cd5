import { describe, expect, it } from 'vitest';
import { storeUnderTest, type ModelStoreFixture } from './fixture.ts';

/** The behaviour every adapter's CatalogStore part must have (run against memory and Redis). */
export function describeCatalogContract(name: string, open: () => Promise<ModelStoreFixture>): void {
  describe(`CatalogStore contract: ${name}`, () => {
    const t = storeUnderTest(open);

    it('reads a registry and the catalog ids larger than one read page whole (Redis pages by 10,000)', async () => {
      const ids = Array.from({ length: 25_003 }, (_, i) => `n${i}`);
      for (let start = 0; start < ids.length; start += 5_000)
        await t.store.commit({ newItems: { registry: 'big', ids: ids.slice(start, start + 5_000) } });
      expect(await t.store.getItemRegistry('big', 0)).toEqual(ids);
      expect(await t.store.getItemRegistry('big', 12_345)).toEqual(ids.slice(12_345));
      expect(await t.store.getItemRegistry('big', 25_003)).toEqual([]);
      await t.store.putItems(ids.map((id) => ({ id, record: { itemId: id } })));
      const listed = await t.store.listItemIds();
      expect(listed).toHaveLength(ids.length);
      expect(new Set(listed)).toEqual(new Set(ids));
    });

    it('stores catalog items and users', async () => {
      await t.store.putItems([
        { id: 'i1', record: { itemId: 'i1', tags: ['jazz'], hidden: false } },
        { id: 'i2', record: { itemId: 'i2', categories: ['books'] } },
      ]);
      await t.store.putUsers([{ id: 'u1', record: { userId: 'u1', attributes: { country: 'FR' } } }]);
      expect(await t.store.getItems(['i2', 'nope', 'i1'])).toEqual([
        { itemId: 'i2', categories: ['books'] },
        undefined,
        { itemId: 'i1', tags: ['jazz'], hidden: false },
      ]);
      expect((await t.store.listItemIds()).sort()).toEqual(['i1', 'i2']);
      expect(await t.store.deleteItem('i1')).toBe(true);
      expect(await t.store.deleteItem('i1')).toBe(false);
      expect(await t.store.listItemIds()).toEqual(['i2']);
      expect(await t.store.getUsers(['u1'])).toEqual([{ userId: 'u1', attributes: { country: 'FR' } }]);
    });
  });
}
