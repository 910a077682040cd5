import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import {
  CATALOG_STREAM,
  DEFAULT_STORE_LIMITS,
  rowEntry,
  rowOf,
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
  type SnapshotEntry,
  type TransitionList,
  type UserSnapshot,
} from '../../ports/index.ts';
import { assertWritable } from '../row-checks.ts';
import { DEGREE_MEMBER, transitionListOf } from '../transitions.ts';
import { storeUnavailable } from './connect.ts';
import { commitArgs } from './commit-args.ts';
import { decodeRow, encodeRow } from './row-codec.ts';

const COMMIT_SCRIPT = readFileSync(new URL('./commit.lua', import.meta.url), 'utf8');
const READ_CHUNK = 1_000;
/**
 * Elements per command when reading a whole registry or the catalog's id set: one command for a
 * million elements held Redis (single-threaded) for a noticeable time, delaying every other
 * client's command, and under load it ran past the command timeout.
 */
const LIST_PAGE = 10_000;
/** Deletes an item record and, when it existed, appends its id to the catalog change stream. */
const DELETE_ITEM_SCRIPT = `
local deleted = redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
if deleted > 0 then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'items', ARGV[1])
end
return deleted`;
/** Many users' histories in one command (a pipeline of LRANGEs costs a promise and a parse each). */
const HISTORIES_SCRIPT = `
local out = {}
for i = 1, #KEYS do out[i] = redis.call('LRANGE', KEYS[i], 0, -1) end
return out`;
/**
 * A user's rows (KEYS[1..n], n = ARGV[1]), history list (KEYS[n+1]) and catalog record (KEYS[n+2])
 * in one call: a missing key is false, which Redis sends as a nil element. The history comes as
 * one string joined by newlines (ids have no control characters: shared/schemas/limits.ts), one
 * reply buffer instead of one per item.
 */
const USER_STATE_SCRIPT = `
local n = tonumber(ARGV[1])
local out = {}
for i = 1, n do out[i] = redis.call('GET', KEYS[i]) end
out[n + 1] = table.concat(redis.call('LRANGE', KEYS[n + 1], 0, -1), '\\n')
out[n + 2] = redis.call('GET', KEYS[n + 2])
return out`;
/** Attempts with optimistic (final-value) rows before every shared row is sent as a delta. */
const MAX_OPTIMISTIC_ATTEMPTS = 3;

type CommitReply = [string, string?, string?];

interface RecsysRedis extends Redis {
  /** ioredis flattens array arguments: one array avoids spreading 100,000 arguments on the stack. */
  recsysCommit(args: (string | Buffer | number)[]): Promise<CommitReply>;
  recsysHistories(args: (string | number)[]): Promise<string[][]>;
  /** The Buffer variant ioredis defines next to every script command: rows stay binary. */
  recsysUserStateBuffer(args: (string | number)[]): Promise<(Buffer | null)[]>;
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
 *   <prefix>:popularity:<seg> sorted set (log2)                <prefix>:registry:<name>  list (+ :set hash)
 *   <prefix>:changes:<name>   stream of changed item ids       <prefix>:item:<id>        JSON
 *   <prefix>:items            set of catalog item ids          <prefix>:user:<id>        JSON
 *   <prefix>:transitions:<id> sorted set: neighbour -> weight, '' -> degree (the session signal)
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
    if (!('recsysHistories' in redis)) {
      redis.defineCommand('recsysHistories', { lua: HISTORIES_SCRIPT });
    }
    if (!('recsysUserState' in redis)) {
      redis.defineCommand('recsysUserState', { lua: USER_STATE_SCRIPT });
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
    return this.#chunked(ids, async (chunk) => {
      const keys = chunk.map((id) => this.rowKey(table, id));
      const values = await this.#call('read', () => this.#redis.mgetBuffer(...keys));
      return values.map((value) => (value === null ? undefined : decodeRow(value)));
    });
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
    return this.#chunked(userIds, (chunk) => {
      const keys = chunk.map((id) => this.#key('hist', id));
      return this.#call('read of histories', () => this.#redis.recsysHistories([keys.length, ...keys]));
    });
  }

  async getItemRegistry(registry: string, from: number): Promise<string[]> {
    const key = this.#key('registry', registry);
    const out: string[] = [];
    for (let start = from; ; start += LIST_PAGE) {
      const page = await this.#call('read of the item registry', () =>
        this.#redis.lrange(key, start, start + LIST_PAGE - 1),
      );
      for (const id of page) out.push(id);
      if (page.length < LIST_PAGE) return out;
    }
  }

  async getPopular(segment: string, k: number): Promise<{ itemId: string; score: number }[]> {
    const flat = await this.#call('read of popularity', () =>
      this.#redis.zrevrange(this.#key('popularity', segment), 0, k - 1, 'WITHSCORES'),
    );
    const out: { itemId: string; score: number }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2)
      out.push({ itemId: flat[i] as string, score: Number(flat[i + 1]) });
    return out;
  }

  async getTransitions(itemIds: readonly string[]): Promise<(TransitionList | undefined)[]> {
    return this.#chunked(itemIds, async (chunk) => {
      const pipeline = this.#redis.pipeline();
      for (const id of chunk) pipeline.zrange(this.#key('transitions', id), 0, -1, 'WITHSCORES');
      const replies = (await this.#call('read of transitions', () => pipeline.exec())) ?? [];
      return replies.map(([error, flat]) => {
        if (error !== null) throw storeUnavailable(error, 'read of transitions');
        return (flat as string[]).length === 0 ? undefined : transitionListOf(pairsOf(flat as string[]));
      });
    });
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
    for (let start = 0; start < records.length; start += READ_CHUNK) {
      const chunk = records.slice(start, start + READ_CHUNK);
      const multi = this.#redis.multi();
      for (const { id, record } of chunk) multi.set(this.#key('item', id), JSON.stringify(record));
      multi.sadd(
        this.#key('items'),
        chunk.map((r) => r.id),
      );
      multi.xadd(...this.#catalogChange(chunk.map((r) => r.id)));
      await this.#call('catalog write', () => multi.exec());
    }
  }

  async getItems(ids: readonly string[]): Promise<(CatalogRecord | undefined)[]> {
    return this.#getJson('item', ids);
  }

  async deleteItem(id: string): Promise<boolean> {
    const deleted = await this.#call('catalog delete', () =>
      this.#redis.eval(
        DELETE_ITEM_SCRIPT,
        3,
        this.#key('item', id),
        this.#key('items'),
        this.#key('changes', CATALOG_STREAM),
        id,
        String(this.#limits.changeStreamLimit),
      ),
    );
    return Number(deleted) > 0;
  }

  async listItemIds(): Promise<string[]> {
    // SSCAN in pages (it may return an element twice: a Set keeps each once).
    const key = this.#key('items');
    const ids = new Set<string>();
    let cursor = '0';
    do {
      const [next, page] = await this.#call('catalog read', () =>
        this.#redis.sscan(key, cursor, 'COUNT', LIST_PAGE),
      );
      for (const id of page) ids.add(id);
      cursor = next;
    } while (cursor !== '0');
    return [...ids];
  }

  async putUsers(records: readonly { id: string; record: CatalogRecord }[]): Promise<void> {
    for (let start = 0; start < records.length; start += READ_CHUNK) {
      const multi = this.#redis.multi();
      for (const { id, record } of records.slice(start, start + READ_CHUNK))
        multi.set(this.#key('user', id), JSON.stringify(record));
      await this.#call('catalog write', () => multi.exec());
    }
  }

  async getUsers(ids: readonly string[]): Promise<(CatalogRecord | undefined)[]> {
    return this.#getJson('user', ids);
  }

  async getUserState(userId: string, tables: readonly RowTable[]): Promise<UserSnapshot> {
    const keys = [
      ...tables.map((table) => this.rowKey(table, userId)),
      this.#key('hist', userId),
      this.#key('user', userId),
    ];
    const reply = await this.#call('read of a user', () =>
      this.#redis.recsysUserStateBuffer([keys.length, ...keys, tables.length]),
    );
    const rows = tables.map((_, i) => {
      const value = reply[i] as Buffer | null;
      return value === null ? undefined : decodeRow(value);
    });
    const joined = (reply[tables.length] as Buffer).toString('utf8');
    const history = joined === '' ? [] : joined.split('\n');
    const record = reply[tables.length + 1] as Buffer | null;
    return {
      rows,
      history,
      record: record === null ? undefined : (JSON.parse(record.toString('utf8')) as CatalogRecord),
    };
  }

  async *snapshot(tables: readonly RowTable[]): AsyncIterable<SnapshotEntry> {
    for (const table of tables) {
      const head = this.rowKey(table, '');
      for await (const keys of this.#scan(`${globEscape(head)}*`)) {
        const pipeline = this.#redis.pipeline();
        for (const key of keys) pipeline.getBuffer(key);
        const values = (await this.#call('snapshot', () => pipeline.exec())) ?? [];
        for (const [i, key] of keys.entries()) {
          const buffer = values[i]?.[1] as Buffer | null | undefined;
          if (buffer === null || buffer === undefined) continue;
          yield rowEntry(table, key.slice(head.length), decodeRow(buffer));
        }
      }
    }
    const numbers = (hash: Record<string, string>) =>
      Object.fromEntries(Object.entries(hash).map(([k, v]) => [k, Number(v)]));
    for await (const [rest, key] of this.#scanKind('offsets'))
      yield {
        kind: 'offsets',
        scope: rest,
        offsets: numbers(await this.#call('snapshot', () => this.#redis.hgetall(key))),
      };
    for await (const [rest, key] of this.#scanKind('counter'))
      yield {
        kind: 'counter',
        name: rest,
        fields: numbers(await this.#call('snapshot', () => this.#redis.hgetall(key))),
      };
    for await (const [rest, key] of this.#scanKind('hist'))
      yield {
        kind: 'history',
        userId: rest,
        items: await this.#call('snapshot', () => this.#redis.lrange(key, 0, -1)),
      };
    for await (const [rest, key] of this.#scanKind('registry')) {
      if ((await this.#call('snapshot', () => this.#redis.type(key))) !== 'list') continue; // the :set hash
      yield {
        kind: 'registry',
        name: rest,
        ids: await this.#call('snapshot', () => this.#redis.lrange(key, 0, -1)),
      };
    }
    for await (const [rest, key] of this.#scanKind('popularity')) {
      const flat = await this.#call('snapshot', () => this.#redis.zrange(key, 0, -1, 'WITHSCORES'));
      const scores: Record<string, number> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) scores[flat[i] as string] = Number(flat[i + 1]);
      yield { kind: 'popularity', segment: rest, scores };
    }
    for await (const [rest, key] of this.#scanKind('transitions')) {
      const flat = await this.#call('snapshot', () => this.#redis.zrange(key, 0, -1, 'WITHSCORES'));
      const { [DEGREE_MEMBER]: degree = 0, ...neighbors } = Object.fromEntries(pairsOf(flat));
      yield { kind: 'transitions', itemId: rest, degree, neighbors };
    }
    for (const kind of ['item', 'user'] as const)
      for await (const [rest, key] of this.#scanKind(kind)) {
        const json = await this.#call('snapshot', () => this.#redis.get(key));
        if (json !== null) yield { kind, id: rest, record: JSON.parse(json) as CatalogRecord };
      }
  }

  async restore(entries: readonly SnapshotEntry[]): Promise<void> {
    const items: string[] = [];
    for (let start = 0; start < entries.length; start += READ_CHUNK) {
      const multi = this.#redis.multi();
      for (const e of entries.slice(start, start + READ_CHUNK)) {
        switch (e.kind) {
          case 'row': {
            const row = rowOf(e);
            multi.set(
              this.rowKey(e.table, e.id),
              encodeRow(row.vector, row.state, row.bias, row.count, row.version, row.updatedAt),
            );
            break;
          }
          case 'offsets':
            if (Object.keys(e.offsets).length > 0) multi.hset(this.#key('offsets', e.scope), e.offsets);
            break;
          case 'counter':
            if (Object.keys(e.fields).length > 0) multi.hset(this.#key('counter', e.name), e.fields);
            break;
          case 'history':
            multi.del(this.#key('hist', e.userId));
            if (e.items.length > 0) multi.rpush(this.#key('hist', e.userId), ...e.items);
            break;
          case 'registry': {
            const list = this.#key('registry', e.name);
            multi.del(list, this.#key('registry', e.name, 'set'));
            if (e.ids.length > 0) {
              multi.rpush(list, ...e.ids);
              multi.hset(
                this.#key('registry', e.name, 'set'),
                Object.fromEntries(e.ids.map((id, i) => [id, i])),
              );
            }
            break;
          }
          case 'popularity': {
            const flat = Object.entries(e.scores).flatMap(([itemId, score]) => [score, itemId]);
            if (flat.length > 0) multi.zadd(this.#key('popularity', e.segment), ...flat);
            break;
          }
          case 'transitions': {
            const key = this.#key('transitions', e.itemId);
            const flat = Object.entries(e.neighbors).flatMap(([itemId, weight]) => [weight, itemId]);
            multi.del(key);
            multi.zadd(key, e.degree, DEGREE_MEMBER, ...flat);
            break;
          }
          case 'item':
            multi.set(this.#key('item', e.id), JSON.stringify(e.record));
            multi.sadd(this.#key('items'), e.id);
            items.push(e.id);
            break;
          case 'user':
            multi.set(this.#key('user', e.id), JSON.stringify(e.record));
            break;
        }
      }
      await this.#call('restore', () => multi.exec());
    }
    if (items.length > 0) await this.#call('restore', () => this.#redis.xadd(...this.#catalogChange(items)));
  }

  /** Keys matching a glob pattern, a page at a time. */
  async *#scan(pattern: string): AsyncIterable<string[]> {
    let cursor = '0';
    do {
      const [next, keys] = await this.#call('scan', () =>
        this.#redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000),
      );
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }

  /** [the key after `<prefix>:<kind>:`, the key] of every key of a kind. */
  async *#scanKind(kind: string): AsyncIterable<[string, string]> {
    const head = this.#key(kind, '');
    for await (const keys of this.#scan(`${globEscape(head)}*`))
      for (const key of keys) yield [key.slice(head.length), key];
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
    return this.#chunked(ids, async (chunk) => {
      const keys = chunk.map((id) => this.#key(kind, id));
      const values = await this.#call('catalog read', () => this.#redis.mget(...keys));
      return values.map((value) => (value === null ? undefined : (JSON.parse(value) as CatalogRecord)));
    });
  }

  /**
   * One atomic write. Shared rows that carry their final values and the version they started
   * from are first sent as those values only (written as they are when nobody else wrote the row
   * since: far less work for Redis); rows another writer changed come back as conflicts and are
   * sent again, in a new attempt, as float64 deltas. The last attempt sends every row as a delta.
   */
  async #commit(batch: CommitBatch): Promise<CommitResult> {
    assertWritable(batch);
    const asDelta = new Set<number>();
    for (let attempt = 0; ; attempt++) {
      const reply = await this.#attempt(batch, attempt >= MAX_OPTIMISTIC_ATTEMPTS ? 'all' : asDelta);
      if (reply[0] === 'conflict') {
        for (const index of (reply[1] ?? '').split(',')) if (index !== '') asDelta.add(Number(index));
        continue;
      }
      if (reply[0] === 'fenced')
        return { status: 'fenced', partition: Number(reply[1]), storedOffset: Number(reply[2]) };
      return { status: 'committed' };
    }
  }

  async #attempt(batch: CommitBatch, asDelta: ReadonlySet<number> | 'all'): Promise<CommitReply> {
    const args = commitArgs(
      batch,
      asDelta,
      { rowKey: (table, id) => this.rowKey(table, id), key: (...parts) => this.#key(...parts) },
      this.#limits,
    );
    if (args === undefined) return ['committed'];
    try {
      return await this.#redis.recsysCommit(args);
    } catch (cause) {
      if (cause instanceof Error && cause.message.includes('DIMENSION_MISMATCH')) {
        throw new RangeError(cause.message.slice(cause.message.indexOf('DIMENSION_MISMATCH')));
      }
      throw storeUnavailable(cause, 'commit');
    }
  }

  /** XADD arguments appending item ids to the catalog change stream serving instances follow. */
  #catalogChange(ids: readonly string[]): [string, 'MAXLEN', '~', string, '*', 'items', string] {
    return [
      this.#key('changes', CATALOG_STREAM),
      'MAXLEN',
      '~',
      String(this.#limits.changeStreamLimit),
      '*',
      'items',
      ids.join('\n'),
    ];
  }

  #key(...parts: string[]): string {
    return [this.#prefix, ...parts].join(':');
  }

  /**
   * Reads in chunks of READ_CHUNK, all sent at once (one wait for the round trip, not one per
   * chunk), results in the order of `ids`.
   */
  async #chunked<T>(ids: readonly string[], read: (chunk: readonly string[]) => Promise<T[]>): Promise<T[]> {
    if (ids.length <= READ_CHUNK) return read(ids);
    const reads: Promise<T[]>[] = [];
    for (let start = 0; start < ids.length; start += READ_CHUNK)
      reads.push(read(ids.slice(start, start + READ_CHUNK)));
    return (await Promise.all(reads)).flat();
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      throw storeUnavailable(cause, what);
    }
  }
}

/** [member, score] pairs of a WITHSCORES reply. */
function pairsOf(flat: readonly string[]): [string, number][] {
  const out: [string, number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] as string, Number(flat[i + 1])]);
  return out;
}

/** A literal for a Redis MATCH pattern (prefixes and ids may contain glob characters). */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
