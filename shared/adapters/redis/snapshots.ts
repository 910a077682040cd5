import {
  rowEntry,
  rowOf,
  type CatalogRecord,
  type RowTable,
  type SnapshotEntry,
  type SnapshotStore,
} from '../../ports/index.ts';
import { DEGREE_MEMBER } from '../transitions.ts';
import { READ_CHUNK, globEscape, pairsOf, type RedisContext } from './context.ts';
import { decodeRow, encodeRow } from './row-codec.ts';

/** Export and import on Redis: SCAN per key family, MULTI per chunk of entries on restore. */
export class RedisSnapshots implements SnapshotStore {
  readonly #ctx: RedisContext;

  constructor(ctx: RedisContext) {
    this.#ctx = ctx;
  }

  async *snapshot(tables: readonly RowTable[]): AsyncIterable<SnapshotEntry> {
    const ctx = this.#ctx;
    const read = <T>(fn: () => Promise<T>) => ctx.call('snapshot', fn);
    for (const table of tables) {
      const head = ctx.rowKey(table, '');
      for await (const keys of ctx.scan(`${globEscape(head)}*`)) {
        const pipeline = ctx.redis.pipeline();
        for (const key of keys) pipeline.getBuffer(key);
        const values = (await read(() => pipeline.exec())) ?? [];
        for (const [i, key] of keys.entries()) {
          const buffer = values[i]?.[1] as Buffer | null | undefined;
          if (buffer === null || buffer === undefined) continue;
          yield rowEntry(table, key.slice(head.length), decodeRow(buffer));
        }
      }
    }
    const numbers = (hash: Record<string, string>) =>
      Object.fromEntries(Object.entries(hash).map(([k, v]) => [k, Number(v)]));
    for await (const [rest, key] of ctx.scanKind('offsets'))
      yield { kind: 'offsets', scope: rest, offsets: numbers(await read(() => ctx.redis.hgetall(key))) };
    for await (const [rest, key] of ctx.scanKind('counter'))
      yield { kind: 'counter', name: rest, fields: numbers(await read(() => ctx.redis.hgetall(key))) };
    for await (const [rest, key] of ctx.scanKind('hist'))
      yield { kind: 'history', userId: rest, items: await read(() => ctx.redis.lrange(key, 0, -1)) };
    for await (const [rest, key] of ctx.scanKind('registry')) {
      if ((await read(() => ctx.redis.type(key))) !== 'list') continue; // the :set hash
      yield { kind: 'registry', name: rest, ids: await read(() => ctx.redis.lrange(key, 0, -1)) };
    }
    for await (const [rest, key] of ctx.scanKind('popularity')) {
      const flat = await read(() => ctx.redis.zrange(key, 0, -1, 'WITHSCORES'));
      yield { kind: 'popularity', segment: rest, scores: Object.fromEntries(pairsOf(flat)) };
    }
    for await (const [rest, key] of ctx.scanKind('transitions')) {
      const flat = await read(() => ctx.redis.zrange(key, 0, -1, 'WITHSCORES'));
      const { [DEGREE_MEMBER]: degree = 0, ...neighbors } = Object.fromEntries(pairsOf(flat));
      yield { kind: 'transitions', itemId: rest, degree, neighbors };
    }
    for (const kind of ['item', 'user'] as const)
      for await (const [rest, key] of ctx.scanKind(kind)) {
        const json = await read(() => ctx.redis.get(key));
        if (json !== null) yield { kind, id: rest, record: JSON.parse(json) as CatalogRecord };
      }
  }

  async restore(entries: readonly SnapshotEntry[]): Promise<void> {
    const ctx = this.#ctx;
    const items: string[] = [];
    for (let start = 0; start < entries.length; start += READ_CHUNK) {
      const multi = ctx.redis.multi();
      for (const e of entries.slice(start, start + READ_CHUNK)) {
        switch (e.kind) {
          case 'row': {
            const row = rowOf(e);
            multi.set(
              ctx.rowKey(e.table, e.id),
              encodeRow(row.vector, row.state, row.bias, row.count, row.version, row.updatedAt),
            );
            break;
          }
          case 'offsets':
            if (Object.keys(e.offsets).length > 0) multi.hset(ctx.key('offsets', e.scope), e.offsets);
            break;
          case 'counter':
            if (Object.keys(e.fields).length > 0) multi.hset(ctx.key('counter', e.name), e.fields);
            break;
          case 'history':
            multi.del(ctx.key('hist', e.userId));
            if (e.items.length > 0) multi.rpush(ctx.key('hist', e.userId), ...e.items);
            break;
          case 'registry': {
            const list = ctx.key('registry', e.name);
            multi.del(list, ctx.key('registry', e.name, 'set'));
            if (e.ids.length > 0) {
              multi.rpush(list, ...e.ids);
              multi.hset(
                ctx.key('registry', e.name, 'set'),
                Object.fromEntries(e.ids.map((id, i) => [id, i])),
              );
            }
            break;
          }
          case 'popularity': {
            const flat = Object.entries(e.scores).flatMap(([itemId, score]) => [score, itemId]);
            if (flat.length > 0) multi.zadd(ctx.key('popularity', e.segment), ...flat);
            break;
          }
          case 'transitions': {
            const key = ctx.key('transitions', e.itemId);
            const flat = Object.entries(e.neighbors).flatMap(([itemId, weight]) => [weight, itemId]);
            multi.del(key);
            multi.zadd(key, e.degree, DEGREE_MEMBER, ...flat);
            break;
          }
          case 'item':
            multi.set(ctx.key('item', e.id), JSON.stringify(e.record));
            multi.sadd(ctx.key('items'), e.id);
            items.push(e.id);
            break;
          case 'user':
            multi.set(ctx.key('user', e.id), JSON.stringify(e.record));
            break;
        }
      }
      await ctx.call('restore', () => multi.exec());
    }
    if (items.length > 0) await ctx.call('restore', () => ctx.redis.xadd(...ctx.catalogChange(items)));
  }
}
