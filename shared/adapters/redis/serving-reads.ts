import type { Redis } from 'ioredis';
import type {
  CatalogRecord,
  RowTable,
  ServingReads,
  TransitionList,
  UserSnapshot,
} from '../../ports/index.ts';
import { transitionListOf } from '../transitions.ts';
import { storeUnavailable } from './connect.ts';
import { pairsOf, type RedisContext } from './context.ts';
import { decodeRow } from './row-codec.ts';

interface ReadCommands {
  recsysHistories(args: (string | number)[]): Promise<string[][]>;
  /** The Buffer variant ioredis defines next to every script command: rows stay binary. */
  recsysUserStateBuffer(args: (string | number)[]): Promise<(Buffer | null)[]>;
}

/** What serving reads per request, each in one command (lua/histories.lua, lua/user-state.lua). */
export class RedisServingReads implements ServingReads {
  readonly #ctx: RedisContext;
  readonly #redis: Redis & ReadCommands;

  constructor(ctx: RedisContext) {
    ctx.define('recsysHistories', 'histories');
    ctx.define('recsysUserState', 'user-state');
    this.#ctx = ctx;
    this.#redis = ctx.redis as Redis & ReadCommands;
  }

  async getUserState(userId: string, tables: readonly RowTable[]): Promise<UserSnapshot> {
    const ctx = this.#ctx;
    const keys = [
      ...tables.map((table) => ctx.rowKey(table, userId)),
      ctx.key('hist', userId),
      ctx.key('user', userId),
    ];
    const reply = await ctx.call('read of a user', () =>
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

  async getHistories(userIds: readonly string[]): Promise<string[][]> {
    const ctx = this.#ctx;
    return ctx.chunked(userIds, (chunk) => {
      const keys = chunk.map((id) => ctx.key('hist', id));
      return ctx.call('read of histories', () => this.#redis.recsysHistories([keys.length, ...keys]));
    });
  }

  async getPopular(segment: string, k: number): Promise<{ itemId: string; score: number }[]> {
    const ctx = this.#ctx;
    const flat = await ctx.call('read of popularity', () =>
      ctx.redis.zrevrange(ctx.key('popularity', segment), 0, k - 1, 'WITHSCORES'),
    );
    return pairsOf(flat).map(([itemId, score]) => ({ itemId, score }));
  }

  async getTransitions(itemIds: readonly string[]): Promise<(TransitionList | undefined)[]> {
    const ctx = this.#ctx;
    return ctx.chunked(itemIds, async (chunk) => {
      const pipeline = ctx.redis.pipeline();
      for (const id of chunk) pipeline.zrange(ctx.key('transitions', id), 0, -1, 'WITHSCORES');
      const replies = (await ctx.call('read of transitions', () => pipeline.exec())) ?? [];
      return replies.map(([error, flat]) => {
        if (error !== null) throw storeUnavailable(error, 'read of transitions');
        return (flat as string[]).length === 0 ? undefined : transitionListOf(pairsOf(flat as string[]));
      });
    });
  }
}
