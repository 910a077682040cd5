import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { CATALOG_STREAM, type ModelStoreLimits, type RowTable } from '../../ports/index.ts';
import { storeUnavailable } from './connect.ts';

/** Ids per command when reading many rows, histories or records. */
export const READ_CHUNK = 1_000;
/**
 * Elements per command when reading a whole registry or the catalog's id set: one command for a
 * million elements held Redis (single-threaded) for a noticeable time, delaying every other
 * client's command, and under load it ran past the command timeout.
 */
export const LIST_PAGE = 10_000;

/** A Lua script of lua/, with its KEYS/ARGV header. */
export function luaScript(name: string): string {
  return readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
}

/**
 * What every part of the Redis model store shares: the client, the key layout and the error
 * mapping. Keys are `<prefix>:<kind>:<name>` (docs/architecture.md "Storage layout in Redis").
 */
export class RedisContext {
  readonly redis: Redis;
  readonly limits: ModelStoreLimits;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string, limits: ModelStoreLimits) {
    this.redis = redis;
    this.#prefix = prefix;
    this.limits = limits;
  }

  /** Defines a script of lua/ as a command of the client (once per client). */
  define(command: string, script: string): void {
    if (!(command in this.redis)) this.redis.defineCommand(command, { lua: luaScript(script) });
  }

  key(...parts: string[]): string {
    return [this.#prefix, ...parts].join(':');
  }

  rowKey(table: RowTable, id: string): string {
    return `${this.#prefix}:r:${table}:${id}`;
  }

  /** Runs a Redis call, turning a failure into STORE_UNAVAILABLE naming `what`. */
  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      throw storeUnavailable(cause, what);
    }
  }

  /**
   * Reads in chunks of READ_CHUNK, all sent at once (one wait for the round trip, not one per
   * chunk), results in the order of `ids`.
   */
  async chunked<T>(ids: readonly string[], read: (chunk: readonly string[]) => Promise<T[]>): Promise<T[]> {
    if (ids.length <= READ_CHUNK) return read(ids);
    const reads: Promise<T[]>[] = [];
    for (let start = 0; start < ids.length; start += READ_CHUNK)
      reads.push(read(ids.slice(start, start + READ_CHUNK)));
    return (await Promise.all(reads)).flat();
  }

  /** Keys matching a glob pattern, a page at a time. */
  async *scan(pattern: string): AsyncIterable<string[]> {
    let cursor = '0';
    do {
      const [next, keys] = await this.call('scan', () =>
        this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000),
      );
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }

  /** [the key after `<prefix>:<kind>:`, the key] of every key of a kind. */
  async *scanKind(kind: string): AsyncIterable<[string, string]> {
    const head = this.key(kind, '');
    for await (const keys of this.scan(`${globEscape(head)}*`))
      for (const key of keys) yield [key.slice(head.length), key];
  }

  /** XADD arguments appending item ids to the catalog change stream serving instances follow. */
  catalogChange(ids: readonly string[]): [string, 'MAXLEN', '~', string, '*', 'items', string] {
    return [
      this.key('changes', CATALOG_STREAM),
      'MAXLEN',
      '~',
      String(this.limits.changeStreamLimit),
      '*',
      'items',
      ids.join('\n'),
    ];
  }
}

/** [member, score] pairs of a WITHSCORES reply. */
export function pairsOf(flat: readonly string[]): [string, number][] {
  const out: [string, number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] as string, Number(flat[i + 1])]);
  return out;
}

/** A literal for a Redis MATCH pattern (prefixes and ids may contain glob characters). */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
