import type { Redis } from 'ioredis';
import { CATALOG_STREAM, type CatalogRecord, type CatalogStore } from '../../ports/index.ts';
import { LIST_PAGE, READ_CHUNK, type RedisContext } from './context.ts';

interface DeleteItemCommand {
  recsysDeleteItem(...args: (string | number)[]): Promise<number>;
}

/**
 * The catalog on Redis: `<prefix>:item:<id>` and `<prefix>:user:<id>` hold JSON records,
 * `<prefix>:items` the set of item ids. Item writes append to the catalog change stream in the
 * same MULTI (or script), so a follower never misses one.
 */
export class RedisCatalog implements CatalogStore {
  readonly #ctx: RedisContext;
  readonly #redis: Redis & DeleteItemCommand;

  constructor(ctx: RedisContext) {
    ctx.define('recsysDeleteItem', 'delete-item');
    this.#ctx = ctx;
    this.#redis = ctx.redis as Redis & DeleteItemCommand;
  }

  async putItems(records: readonly { id: string; record: CatalogRecord }[]): Promise<void> {
    const ctx = this.#ctx;
    for (let start = 0; start < records.length; start += READ_CHUNK) {
      const chunk = records.slice(start, start + READ_CHUNK);
      const multi = ctx.redis.multi();
      for (const { id, record } of chunk) multi.set(ctx.key('item', id), JSON.stringify(record));
      multi.sadd(
        ctx.key('items'),
        chunk.map((r) => r.id),
      );
      multi.xadd(...ctx.catalogChange(chunk.map((r) => r.id)));
      await ctx.call('catalog write', () => multi.exec());
    }
  }

  async getItems(ids: readonly string[]): Promise<(CatalogRecord | undefined)[]> {
    return this.#getJson('item', ids);
  }

  async deleteItem(id: string): Promise<boolean> {
    const ctx = this.#ctx;
    const deleted = await ctx.call('catalog delete', () =>
      this.#redis.recsysDeleteItem(
        3,
        ctx.key('item', id),
        ctx.key('items'),
        ctx.key('changes', CATALOG_STREAM),
        id,
        String(ctx.limits.changeStreamLimit),
      ),
    );
    return Number(deleted) > 0;
  }

  async listItemIds(): Promise<string[]> {
    // SSCAN in pages (it may return an element twice: a Set keeps each once).
    const key = this.#ctx.key('items');
    const ids = new Set<string>();
    let cursor = '0';
    do {
      const [next, page] = await this.#ctx.call('catalog read', () =>
        this.#ctx.redis.sscan(key, cursor, 'COUNT', LIST_PAGE),
      );
      for (const id of page) ids.add(id);
      cursor = next;
    } while (cursor !== '0');
    return [...ids];
  }

  async putUsers(records: readonly { id: string; record: CatalogRecord }[]): Promise<void> {
    const ctx = this.#ctx;
    for (let start = 0; start < records.length; start += READ_CHUNK) {
      const multi = ctx.redis.multi();
      for (const { id, record } of records.slice(start, start + READ_CHUNK))
        multi.set(ctx.key('user', id), JSON.stringify(record));
      await ctx.call('catalog write', () => multi.exec());
    }
  }

  async getUsers(ids: readonly string[]): Promise<(CatalogRecord | undefined)[]> {
    return this.#getJson('user', ids);
  }

  async #getJson(kind: 'item' | 'user', ids: readonly string[]): Promise<(CatalogRecord | undefined)[]> {
    const ctx = this.#ctx;
    return ctx.chunked(ids, async (chunk) => {
      const keys = chunk.map((id) => ctx.key(kind, id));
      const values = await ctx.call('catalog read', () => ctx.redis.mget(...keys));
      return values.map((value) => (value === null ? undefined : (JSON.parse(value) as CatalogRecord)));
    });
  }
}
