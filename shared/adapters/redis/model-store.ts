import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import {
  DEFAULT_STORE_LIMITS,
  type CatalogRecord,
  type CommitBatch,
  type CommitResult,
  type ItemChanges,
  type ModelStore,
  type ModelStoreLimits,
  type Row,
  type RowDelta,
  type RowEntry,
  type RowTable,
  type RowValue,
} from '../../ports/index.ts';
import { assertWritable } from '../row-checks.ts';
import { storeUnavailable } from './connect.ts';
import { decodeRow, encodeDelta, encodeRow } from './row-codec.ts';

const COMMIT_SCRIPT = readFileSync(new URL('./commit.lua', import.meta.url), 'utf8');
const READ_CHUNK = 1_000;
const EMPTY = new Float32Array(0);

type CommitReply = [string, string?];

interface RecsysRedis extends Redis {
  recsysCommit(numKeys: number, ...args: (string | Buffer | number)[]): Promise<CommitReply>;
}

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
 *   <prefix>:pop:<segment>    sorted set                       <prefix>:registry:<name>  list (+ :set hash)
 *   <prefix>:changes:<name>   stream of changed item ids       <prefix>:item:<id>        JSON
 *   <prefix>:items            set of catalog item ids          <prefix>:user:<id>        JSON
 *
 * Every model write goes through one Lua script (commit.lua), which makes a batch atomic and
 * fences stale consumers. Run Redis with AOF and `maxmemory-policy noeviction`.
 */
export class RedisModelStore implements ModelStore {
  readonly kind = 'redis' as const;
  readonly #redis: RecsysRedis;
  readonly #prefix: string;
  readonly #limits: ModelStoreLimits;
  readonly #ownsClient: boolean;

  constructor(redis: Redis, options: RedisModelStoreOptions, ownsClient = true) {
    if (!('recsysCommit' in redis)) {
      redis.defineCommand('recsysCommit', { lua: COMMIT_SCRIPT });
    }
    this.#redis = redis as RecsysRedis;
    this.#prefix = options.keyPrefix;
    this.#limits = options.limits ?? DEFAULT_STORE_LIMITS;
    this.#ownsClient = ownsClient;
  }

  rowKey(table: RowTable, id: string): string {
    return `${this.#prefix}:r:${table}:${id}`;
  }

  async getRows(table: RowTable, ids: readonly string[]): Promise<(Row | undefined)[]> {
    const out: (Row | undefined)[] = [];
    for (let start = 0; start < ids.length; start += READ_CHUNK) {
      const keys = ids.slice(start, start + READ_CHUNK).map((id) => this.rowKey(table, id));
      const values = await this.#call('read', () => this.#redis.mgetBuffer(...keys));
      for (const value of values) out.push(value === null ? undefined : decodeRow(value));
    }
    return out;
  }

  async putRows(table: RowTable, rows: readonly RowEntry<RowValue>[]): Promise<void> {
    await this.#commit({ puts: [{ table, rows }] });
  }

  async addDeltas(table: RowTable, deltas: readonly RowEntry<RowDelta>[]): Promise<void> {
    await this.#commit({ deltas: [{ table, rows: deltas }] });
  }

  async commit(batch: CommitBatch): Promise<CommitResult> {
    return this.#commit(batch);
  }

  async getOffsets(scope: string): Promise<ReadonlyMap<number, number>> {
    const raw = await this.#call('read of offsets', () => this.#redis.hgetall(this.#key('offsets', scope)));
    return new Map(Object.entries(raw).map(([partition, offset]) => [Number(partition), Number(offset)]));
  }

  async getCounters(name: string, fields: readonly string[]): Promise<number[]> {
    const out: number[] = [];
    for (let start = 0; start < fields.length; start += READ_CHUNK) {
      const chunk = fields.slice(start, start + READ_CHUNK);
      const values = await this.#call('read of counters', () =>
        this.#redis.hmget(this.#key('counter', name), ...chunk),
      );
      for (const value of values) out.push(value === null ? 0 : Number(value));
    }
    return out;
  }

  async getHistories(userIds: readonly string[]): Promise<string[][]> {
    const out: string[][] = [];
    for (let start = 0; start < userIds.length; start += READ_CHUNK) {
      const pipeline = this.#redis.pipeline();
      for (const id of userIds.slice(start, start + READ_CHUNK))
        pipeline.lrange(this.#key('hist', id), 0, -1);
      const results = await this.#call('read of histories', () => pipeline.exec());
      for (const [error, value] of results ?? []) {
        if (error) throw storeUnavailable(error, 'read of histories');
        out.push(value as string[]);
      }
    }
    return out;
  }

  async getItemRegistry(registry: string, from: number): Promise<string[]> {
    return this.#call('read of the item registry', () =>
      this.#redis.lrange(this.#key('registry', registry), from, -1),
    );
  }

  async getPopular(segment: string, k: number): Promise<{ itemId: string; score: number }[]> {
    const flat = await this.#call('read of popularity', () =>
      this.#redis.zrevrange(this.#key('pop', segment), 0, k - 1, 'WITHSCORES'),
    );
    const out: { itemId: string; score: number }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2)
      out.push({ itemId: flat[i] as string, score: Number(flat[i + 1]) });
    return out;
  }

  async readItemChanges(stream: string, after: string, count: number): Promise<ItemChanges[]> {
    const entries = await this.#call('read of the change stream', () =>
      this.#redis.xrange(
        this.#key('changes', stream),
        `(${after === '0' ? '0-0' : after}`,
        '+',
        'COUNT',
        count,
      ),
    );
    return entries.map(([id, fields]) => {
      const at = fields.indexOf('items');
      const items = at >= 0 ? (fields[at + 1] ?? '') : '';
      return { id, items: items === '' ? [] : items.split('\n') };
    });
  }

  async evictRows(table: RowTable, olderThan: number): Promise<number> {
    let cursor = '0';
    let evicted = 0;
    const match = `${this.rowKey(table, '')}*`;
    do {
      const [next, keys] = await this.#call('scan', () =>
        this.#redis.scan(cursor, 'MATCH', match, 'COUNT', 1000),
      );
      cursor = next;
      if (keys.length === 0) continue;
      const pipeline = this.#redis.pipeline();
      for (const key of keys) pipeline.getrangeBuffer(key, 32, 39);
      const times = (await this.#call('scan', () => pipeline.exec())) ?? [];
      const stale = keys.filter((_, i) => {
        const bytes = times[i]?.[1] as Buffer | undefined;
        return bytes !== undefined && bytes.length === 8 && bytes.readDoubleLE(0) < olderThan;
      });
      if (stale.length > 0) evicted += await this.#call('eviction', () => this.#redis.unlink(...stale));
    } while (cursor !== '0');
    return evicted;
  }

  async putItems(records: readonly { id: string; record: CatalogRecord }[]): Promise<void> {
    if (records.length === 0) return;
    const multi = this.#redis.multi();
    for (const { id, record } of records) multi.set(this.#key('item', id), JSON.stringify(record));
    multi.sadd(this.#key('items'), ...records.map((r) => r.id));
    await this.#call('catalog write', () => multi.exec());
  }

  async getItems(ids: readonly string[]): Promise<(CatalogRecord | undefined)[]> {
    return this.#getJson('item', ids);
  }

  async deleteItem(id: string): Promise<boolean> {
    const multi = this.#redis.multi().del(this.#key('item', id)).srem(this.#key('items'), id);
    const results = await this.#call('catalog delete', () => multi.exec());
    return Number(results?.[0]?.[1] ?? 0) > 0;
  }

  async listItemIds(): Promise<string[]> {
    return this.#call('catalog read', () => this.#redis.smembers(this.#key('items')));
  }

  async putUsers(records: readonly { id: string; record: CatalogRecord }[]): Promise<void> {
    if (records.length === 0) return;
    const multi = this.#redis.multi();
    for (const { id, record } of records) multi.set(this.#key('user', id), JSON.stringify(record));
    await this.#call('catalog write', () => multi.exec());
  }

  async getUsers(ids: readonly string[]): Promise<(CatalogRecord | undefined)[]> {
    return this.#getJson('user', ids);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.#redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (!this.#ownsClient) return;
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
  }

  async #getJson(kind: 'item' | 'user', ids: readonly string[]): Promise<(CatalogRecord | undefined)[]> {
    const out: (CatalogRecord | undefined)[] = [];
    for (let start = 0; start < ids.length; start += READ_CHUNK) {
      const keys = ids.slice(start, start + READ_CHUNK).map((id) => this.#key(kind, id));
      const values = await this.#call('catalog read', () => this.#redis.mget(...keys));
      for (const value of values) out.push(value === null ? undefined : (JSON.parse(value) as CatalogRecord));
    }
    return out;
  }

  async #commit(batch: CommitBatch): Promise<CommitResult> {
    assertWritable(batch);
    const keys: string[] = [];
    const args: (string | Buffer)[] = [];
    const offset = batch.offset;
    if (offset !== undefined) keys.push(this.#key('offsets', offset.scope));
    let nPuts = 0;
    let nDeltas = 0;
    for (const group of batch.puts ?? []) {
      for (const { id, value } of group.rows) {
        keys.push(this.rowKey(group.table, id));
        args.push(encodeRow(value.vector, value.state ?? EMPTY, value.bias, value.count, 0, value.updatedAt));
        nPuts++;
      }
    }
    for (const group of batch.deltas ?? []) {
      for (const { id, value } of group.rows) {
        keys.push(this.rowKey(group.table, id));
        args.push(
          encodeDelta(
            value.vector,
            value.state ?? EMPTY,
            value.bias,
            value.count,
            value.updatedAt,
            value.init,
          ),
        );
        nDeltas++;
      }
    }
    const counters = batch.counters ?? [];
    for (const counter of counters) {
      keys.push(this.#key('counter', counter.name));
      args.push(counter.field, String(counter.by));
    }
    const histories = (batch.history ?? []).filter((h) => h.items.length > 0);
    for (const { userId, items } of histories) {
      keys.push(this.#key('hist', userId));
      args.push(String(items.length), ...items);
    }
    const popularity = batch.popularity ?? [];
    for (const { segment, itemId, by } of popularity) {
      keys.push(this.#key('pop', segment));
      args.push(itemId, String(by));
    }
    const newItems = batch.newItems?.ids ?? [];
    if (newItems.length > 0) {
      const registry = (batch.newItems as { registry: string }).registry;
      keys.push(this.#key('registry', registry), this.#key('registry', registry, 'set'));
      args.push(...newItems);
    }
    const changed = batch.changedItems?.ids ?? [];
    if (changed.length > 0) {
      keys.push(this.#key('changes', (batch.changedItems as { stream: string }).stream));
      args.push(...changed);
    }
    if (keys.length === 0) return { status: 'committed' };
    const head = [
      offset === undefined ? '0' : '1',
      String(offset?.partition ?? 0),
      String(offset?.fromOffset ?? 0),
      String(offset?.nextOffset ?? 0),
      String(nPuts),
      String(nDeltas),
      String(counters.length),
      String(histories.length),
      String(popularity.length),
      String(newItems.length),
      String(changed.length),
      String(this.#limits.historyLimit),
      String(this.#limits.changeStreamLimit),
    ];
    let reply: CommitReply;
    try {
      reply = await this.#redis.recsysCommit(keys.length, ...keys, ...head, ...args);
    } catch (cause) {
      if (cause instanceof Error && cause.message.includes('DIMENSION_MISMATCH')) {
        throw new RangeError(cause.message.slice(cause.message.indexOf('DIMENSION_MISMATCH')));
      }
      throw storeUnavailable(cause, 'commit');
    }
    if (reply[0] === 'fenced') return { status: 'fenced', storedOffset: Number(reply[1]) };
    return { status: 'committed' };
  }

  #key(...parts: string[]): string {
    return [this.#prefix, ...parts].join(':');
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      throw storeUnavailable(cause, what);
    }
  }
}
