import type { Redis } from 'ioredis';
import type { CommitBatch, CommitResult, Row, RowTable } from '../../ports/index.ts';
import type { RowCommits } from '../composed-store.ts';
import { assertWritable } from '../row-checks.ts';
import { commitArgs } from './commit-args.ts';
import { storeUnavailable } from './connect.ts';
import { LIST_PAGE, READ_CHUNK, type RedisContext } from './context.ts';
import { decodeRow } from './row-codec.ts';

/** Attempts with optimistic (final-value) rows before every shared row is sent as a delta. */
const MAX_OPTIMISTIC_ATTEMPTS = 3;

type CommitReply = [string, string?, string?];

interface CommitCommand {
  /** ioredis flattens array arguments: one array avoids spreading 100,000 arguments on the stack. */
  recsysCommit(args: (string | Buffer | number)[]): Promise<CommitReply>;
}

/**
 * Rows, offsets, counters and the item registry on Redis. Every model write goes through one Lua
 * script (lua/commit.lua), which makes a batch atomic and fences stale consumers.
 */
export class RedisRows implements RowCommits {
  readonly #ctx: RedisContext;
  readonly #redis: Redis & CommitCommand;

  constructor(ctx: RedisContext) {
    ctx.define('recsysCommit', 'commit');
    this.#ctx = ctx;
    this.#redis = ctx.redis as Redis & CommitCommand;
  }

  async getRows(table: RowTable, ids: readonly string[]): Promise<(Row | undefined)[]> {
    return this.#ctx.chunked(ids, async (chunk) => {
      const keys = chunk.map((id) => this.#ctx.rowKey(table, id));
      const values = await this.#ctx.call('read', () => this.#redis.mgetBuffer(...keys));
      return values.map((value) => (value === null ? undefined : decodeRow(value)));
    });
  }

  /**
   * One atomic write. Shared rows that carry their final values and the version they started
   * from are first sent as those values only (written as they are when nobody else wrote the row
   * since: far less work for Redis); rows another writer changed come back as conflicts and are
   * sent again, in a new attempt, as float64 deltas. The last attempt sends every row as a delta.
   */
  async commit(batch: CommitBatch): Promise<CommitResult> {
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

  async getOffsets(scope: string): Promise<ReadonlyMap<number, number>> {
    const raw = await this.#ctx.call('read of offsets', () =>
      this.#redis.hgetall(this.#ctx.key('offsets', scope)),
    );
    return new Map(Object.entries(raw).map(([partition, offset]) => [Number(partition), Number(offset)]));
  }

  async getCounters(name: string, fields: readonly string[]): Promise<number[]> {
    const out: number[] = [];
    for (let start = 0; start < fields.length; start += READ_CHUNK) {
      const chunk = fields.slice(start, start + READ_CHUNK);
      const values = await this.#ctx.call('read of counters', () =>
        this.#redis.hmget(this.#ctx.key('counter', name), ...chunk),
      );
      for (const value of values) out.push(value === null ? 0 : Number(value));
    }
    return out;
  }

  async getItemRegistry(registry: string, from: number): Promise<string[]> {
    const key = this.#ctx.key('registry', registry);
    const out: string[] = [];
    for (let start = from; ; start += LIST_PAGE) {
      const page = await this.#ctx.call('read of the item registry', () =>
        this.#redis.lrange(key, start, start + LIST_PAGE - 1),
      );
      for (const id of page) out.push(id);
      if (page.length < LIST_PAGE) return out;
    }
  }

  async evictRows(table: RowTable, olderThan: number): Promise<number> {
    let evicted = 0;
    for await (const keys of this.#ctx.scan(`${this.#ctx.rowKey(table, '')}*`)) {
      const pipeline = this.#redis.pipeline();
      // Bytes 32..39 of a row hold its updatedAt (row-codec.ts).
      for (const key of keys) pipeline.getrangeBuffer(key, 32, 39);
      const times = (await this.#ctx.call('scan', () => pipeline.exec())) ?? [];
      const stale = keys.filter((_, i) => {
        const bytes = times[i]?.[1] as Buffer | undefined;
        return bytes !== undefined && bytes.length === 8 && bytes.readDoubleLE(0) < olderThan;
      });
      if (stale.length > 0) evicted += await this.#ctx.call('eviction', () => this.#redis.unlink(...stale));
    }
    return evicted;
  }

  async #attempt(batch: CommitBatch, asDelta: ReadonlySet<number> | 'all'): Promise<CommitReply> {
    const ctx = this.#ctx;
    const args = commitArgs(
      batch,
      asDelta,
      { rowKey: (table, id) => ctx.rowKey(table, id), key: (...parts) => ctx.key(...parts) },
      ctx.limits,
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
}
