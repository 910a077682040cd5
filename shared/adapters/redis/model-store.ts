import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type {
  CommitBatch,
  CommitResult,
  ModelStore,
  Row,
  RowDelta,
  RowEntry,
  RowTable,
  RowValue,
} from '../../ports/index.ts';
import { assertWritable } from '../row-checks.ts';
import { storeUnavailable } from './connect.ts';
import { decodeRow, encodeRow } from './row-codec.ts';

const COMMIT_SCRIPT = readFileSync(new URL('./commit.lua', import.meta.url), 'utf8');
const READ_CHUNK = 1_000;

type CommitReply = [string, string?];

interface RecsysRedis extends Redis {
  recsysCommit(numKeys: number, ...args: (string | Buffer | number)[]): Promise<CommitReply>;
}

export interface RedisModelStoreOptions {
  /** Prefix of every key this store writes (one per deployment, or per test). */
  readonly keyPrefix: string;
}

/**
 * The model store on Redis. Rows are binary strings (row-codec.ts) under `<prefix>:r:<table>:<id>`;
 * offsets are hashes `<prefix>:offsets:<scope>`; counters hashes `<prefix>:counter:<name>`. Every
 * write goes through one Lua script (commit.lua), which makes a batch atomic and fences stale
 * consumers. Run Redis with AOF and `maxmemory-policy noeviction` so nothing is evicted.
 */
export class RedisModelStore implements ModelStore {
  readonly kind = 'redis' as const;
  readonly #redis: RecsysRedis;
  readonly #prefix: string;
  readonly #ownsClient: boolean;

  constructor(redis: Redis, options: RedisModelStoreOptions, ownsClient = true) {
    if (!('recsysCommit' in redis)) {
      redis.defineCommand('recsysCommit', { lua: COMMIT_SCRIPT });
    }
    this.#redis = redis as RecsysRedis;
    this.#prefix = options.keyPrefix;
    this.#ownsClient = ownsClient;
  }

  rowKey(table: RowTable, id: string): string {
    return `${this.#prefix}:r:${table}:${id}`;
  }

  async getRows(table: RowTable, ids: readonly string[]): Promise<(Row | undefined)[]> {
    const out: (Row | undefined)[] = [];
    for (let start = 0; start < ids.length; start += READ_CHUNK) {
      const keys = ids.slice(start, start + READ_CHUNK).map((id) => this.rowKey(table, id));
      let values: (Buffer | null)[];
      try {
        values = await this.#redis.mgetBuffer(...keys);
      } catch (cause) {
        throw storeUnavailable(cause, 'read');
      }
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
    let raw: Record<string, string>;
    try {
      raw = await this.#redis.hgetall(this.#offsetsKey(scope));
    } catch (cause) {
      throw storeUnavailable(cause, 'read of offsets');
    }
    return new Map(Object.entries(raw).map(([partition, offset]) => [Number(partition), Number(offset)]));
  }

  async getCounters(name: string, fields: readonly string[]): Promise<number[]> {
    if (fields.length === 0) return [];
    try {
      const values = await this.#redis.hmget(this.#counterKey(name), ...fields);
      return values.map((value) => (value === null ? 0 : Number(value)));
    } catch (cause) {
      throw storeUnavailable(cause, 'read of counters');
    }
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

  async #commit(batch: CommitBatch): Promise<CommitResult> {
    assertWritable(batch);
    const keys: string[] = [];
    const args: (string | Buffer | number)[] = [];
    const offset = batch.offset;
    if (offset !== undefined) keys.push(this.#offsetsKey(offset.scope));
    const puts = batch.puts ?? [];
    const deltas = batch.deltas ?? [];
    const counters = batch.counters ?? [];
    let nPuts = 0;
    let nDeltas = 0;
    const payloads: Buffer[] = [];
    for (const group of puts) {
      for (const { id, value } of group.rows) {
        keys.push(this.rowKey(group.table, id));
        payloads.push(encodeRow(value.vector, value.bias, value.count, 0, value.updatedAt));
        nPuts++;
      }
    }
    for (const group of deltas) {
      for (const { id, value } of group.rows) {
        keys.push(this.rowKey(group.table, id));
        payloads.push(encodeRow(value.vector, value.bias, value.count, 0, value.updatedAt, value.init));
        nDeltas++;
      }
    }
    args.push(
      offset === undefined ? '0' : '1',
      String(offset?.partition ?? 0),
      String(offset?.fromOffset ?? 0),
      String(offset?.nextOffset ?? 0),
      String(nPuts),
      String(nDeltas),
      String(counters.length),
      ...payloads,
    );
    for (const counter of counters) {
      keys.push(this.#counterKey(counter.name));
      args.push(counter.field, String(counter.by));
    }
    if (keys.length === 0) return { status: 'committed' };
    let reply: CommitReply;
    try {
      reply = await this.#redis.recsysCommit(keys.length, ...keys, ...args);
    } catch (cause) {
      if (cause instanceof Error && cause.message.includes('DIMENSION_MISMATCH')) {
        throw new RangeError(cause.message.slice(cause.message.indexOf('DIMENSION_MISMATCH')));
      }
      throw storeUnavailable(cause, 'commit');
    }
    if (reply[0] === 'fenced') return { status: 'fenced', storedOffset: Number(reply[1]) };
    return { status: 'committed' };
  }

  #offsetsKey(scope: string): string {
    return `${this.#prefix}:offsets:${scope}`;
  }

  #counterKey(name: string): string {
    return `${this.#prefix}:counter:${name}`;
  }
}
