import { Redis, type RedisOptions } from 'ioredis';
import { RecsysError } from '../../errors/index.ts';

export interface RedisConnectionOptions {
  readonly url: string;
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Name shown by CLIENT LIST, e.g. "recsys-trainer". */
  readonly connectionName?: string;
  /**
   * Send the commands issued in one event-loop tick as one pipeline (ioredis auto-pipelining):
   * far fewer writes and wake-ups under many concurrent requests (serving's request path).
   */
  readonly autoPipelining?: boolean;
}

/**
 * An ioredis client that fails fast instead of queueing: no offline queue (a command sent while
 * disconnected fails at once), a timeout on every command, and one retry per request; the client
 * keeps reconnecting in the background with a capped backoff.
 */
export async function connectRedis(options: RedisConnectionOptions): Promise<Redis> {
  const redisOptions: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2_000),
    connectionName: options.connectionName ?? 'recsys',
    enableAutoPipelining: options.autoPipelining ?? false,
  };
  const client = new Redis(options.url, redisOptions);
  // Errors are surfaced through the commands that fail; an unhandled 'error' event would crash.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (cause) {
    client.disconnect();
    throw new RecsysError('STORE_UNAVAILABLE', {
      message: `Cannot connect to Redis at ${redactUrl(options.url)}: ${(cause as Error).message}. Is redis-server running? (npm run services:up starts one.)`,
      cause,
    });
  }
  return client;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/**
 * Wraps a driver error (connection lost, command timeout, a Redis error reply) as the catalogued,
 * retriable STORE_UNAVAILABLE. A programming error (TypeError, RangeError, ...) is rethrown as it
 * is: retrying a bug only hides it.
 */
export function storeUnavailable(cause: unknown, what: string): RecsysError {
  if (
    cause instanceof TypeError ||
    cause instanceof RangeError ||
    cause instanceof SyntaxError ||
    cause instanceof ReferenceError
  ) {
    throw cause;
  }
  return new RecsysError('STORE_UNAVAILABLE', {
    message: `Redis ${what} failed: ${(cause as Error)?.message ?? String(cause)}`,
    cause,
  });
}
