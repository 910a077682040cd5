import type { ChangeFeeds, ItemChanges } from '../../ports/index.ts';
import type { RedisContext } from './context.ts';

/** Change feeds on Redis: `<prefix>:changes:<name>` streams, one entry per write, `items` joined by newlines. */
export class RedisChangeFeeds implements ChangeFeeds {
  readonly #ctx: RedisContext;

  constructor(ctx: RedisContext) {
    this.#ctx = ctx;
  }

  async readItemChanges(stream: string, after: string, count: number): Promise<ItemChanges[]> {
    const ctx = this.#ctx;
    const entries = await ctx.call('read of the change stream', () =>
      ctx.redis.xrange(ctx.key('changes', stream), `(${after === '0' ? '0-0' : after}`, '+', 'COUNT', count),
    );
    return entries.map(([id, fields]) => {
      const at = fields.indexOf('items');
      const items = at >= 0 ? (fields[at + 1] ?? '') : '';
      return { id, items: items === '' ? [] : items.split('\n') };
    });
  }
}
