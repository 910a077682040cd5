import type { Redis } from 'ioredis';
import { DEFAULT_STORE_LIMITS, type ModelStoreLimits, type RowTable } from '../../ports/index.ts';
import { ComposedModelStore } from '../composed-store.ts';
import { RedisCatalog } from './catalog.ts';
import { RedisChangeFeeds } from './change-feeds.ts';
import { RedisContext } from './context.ts';
import { RedisRows } from './rows.ts';
import { RedisServingReads } from './serving-reads.ts';
import { RedisSnapshots } from './snapshots.ts';

export interface RedisModelStoreOptions {
  /** Prefix of every key this store writes (one per deployment, or per test). */
  readonly keyPrefix: string;
  readonly limits?: ModelStoreLimits;
}

/**
 * The model store on Redis (keys, docs/architecture.md "Storage layout in Redis"):
 *
 *   <prefix>:r:<table>:<id>   row (binary, row-codec.ts)       <prefix>:offsets:<scope>  hash
 *   <prefix>:counter:<name>   hash                             <prefix>:hist:<user>      list
 *   <prefix>:popularity:<seg> sorted set (log2)                <prefix>:registry:<name>  list (+ :set hash)
 *   <prefix>:changes:<name>   stream of changed item ids       <prefix>:item:<id>        JSON
 *   <prefix>:items            set of catalog item ids          <prefix>:user:<id>        JSON
 *   <prefix>:transitions:<id> sorted set: neighbour -> weight, '' -> degree (the session signal)
 *
 * One part per port (rows.ts, catalog.ts, change-feeds.ts, serving-reads.ts, snapshots.ts) on
 * one client. Every model write goes through one Lua script (lua/commit.lua), which makes a
 * batch atomic and fences stale consumers. Run Redis with AOF and `maxmemory-policy noeviction`.
 */
export class RedisModelStore extends ComposedModelStore {
  readonly kind = 'redis' as const;
  readonly #ctx: RedisContext;
  readonly #ownsClient: boolean;

  constructor(redis: Redis, options: RedisModelStoreOptions, ownsClient = true) {
    const ctx = new RedisContext(redis, options.keyPrefix, options.limits ?? DEFAULT_STORE_LIMITS);
    super({
      rows: new RedisRows(ctx),
      catalog: new RedisCatalog(ctx),
      feeds: new RedisChangeFeeds(ctx),
      reads: new RedisServingReads(ctx),
      snapshots: new RedisSnapshots(ctx),
    });
    this.#ctx = ctx;
    this.#ownsClient = ownsClient;
  }

  rowKey(table: RowTable, id: string): string {
    return this.#ctx.rowKey(table, id);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.#ctx.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (!this.#ownsClient) return;
    try {
      await this.#ctx.redis.quit();
    } catch {
      this.#ctx.redis.disconnect();
    }
  }
}
