import type { Static } from '@sinclair/typebox';
import {
  API_LIMITS,
  type EventsResponse,
  type ItemBody,
  type ItemsResponse,
  type RecommendationsRequest,
  type RecommendationsResponse,
  type UserBody,
} from '../schemas/api.ts';
import type { InteractionEvent } from '../schemas/event.ts';
import type { ItemRecord } from '../schemas/item.ts';
import type { UserRecord } from '../schemas/user.ts';

/**
 * The typed client of the serving API, for Node/TypeScript services (and anything with `fetch`).
 * Request and response types are the server's own schemas (shared/schemas/api.ts), so a change
 * to the API is a type error here. Errors are RecsysClientError with the API's stable code.
 *
 *   const client = new RecsysClient({ baseUrl: 'http://localhost:8080', apiKey });
 *   const { items } = await client.recommend({ userId: 'u42', k: 10, context: { device: 'mobile' } });
 *   const events = client.publisher();          // batched, retried
 *   events.publish({ userId: 'u42', itemId: 'movie-7', type: 'click' });
 *   await events.close();
 */
export type Recommendations = Static<typeof RecommendationsResponse>;
export type RankedItems = Static<typeof ItemsResponse>;
export type EventsResult = Static<typeof EventsResponse>;
export type Context = Readonly<Record<string, string | number>>;

export interface RecsysClientOptions {
  /** e.g. http://localhost:8080 */
  readonly baseUrl: string;
  /** Sent as x-api-key (a read key for queries, a write key for events and the catalog). */
  readonly apiKey?: string;
  /** Per-request timeout (default 5 s). */
  readonly timeoutMs?: number;
  /** Retries of retriable failures (429, 503, network errors) with backoff (default 3). */
  readonly retries?: number;
  /** Base backoff; doubled per retry, or the server's Retry-After when it says (default 100 ms). */
  readonly backoffMs?: number;
  /** Defaults to globalThis.fetch. */
  readonly fetch?: typeof fetch;
}

/** An error the API returned (or a transport failure, code NETWORK_ERROR / TIMEOUT). */
export class RecsysClientError extends Error {
  readonly code: string;
  readonly status: number;
  readonly issues: readonly { path: string; reason: string }[];
  readonly requestId: string | undefined;

  constructor(
    code: string,
    status: number,
    message: string,
    extra: { issues?: { path: string; reason: string }[]; requestId?: string } = {},
  ) {
    super(message);
    this.name = 'RecsysClientError';
    this.code = code;
    this.status = status;
    this.issues = extra.issues ?? [];
    this.requestId = extra.requestId;
  }

  /** True when trying again later may succeed. */
  get retriable(): boolean {
    return this.status === 429 || this.status === 503 || this.status === 408 || this.status === 0;
  }
}

export class RecsysClient {
  readonly #o: Required<Omit<RecsysClientOptions, 'apiKey'>> & { apiKey: string | undefined };

  constructor(options: RecsysClientOptions) {
    this.#o = {
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      apiKey: options.apiKey,
      timeoutMs: options.timeoutMs ?? 5_000,
      retries: options.retries ?? 3,
      backoffMs: options.backoffMs ?? 100,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    };
  }

  /** Top-k for a user under a context (POST /v1/recommendations). */
  recommend(request: RecommendationsRequest): Promise<Recommendations> {
    return this.#call('POST', '/v1/recommendations', request);
  }

  /** Items like this one (GET /v1/items/:itemId/similar). */
  similar(itemId: string, k = 10): Promise<RankedItems> {
    return this.#call('GET', `/v1/items/${encodeURIComponent(itemId)}/similar?k=${k}`);
  }

  /** Popular items for a context (GET /v1/popular). */
  popular(k = 10, context: Context = {}): Promise<RankedItems> {
    const query = new URLSearchParams({ k: String(k) });
    for (const [key, value] of Object.entries(context)) query.set(key, String(value));
    return this.#call('GET', `/v1/popular?${query}`);
  }

  async putItem(itemId: string, item: ItemBody): Promise<ItemRecord> {
    return (await this.#call<{ item: ItemRecord }>('PUT', `/v1/items/${encodeURIComponent(itemId)}`, item))
      .item;
  }

  /** The item, or undefined when it does not exist. */
  async getItem(itemId: string): Promise<ItemRecord | undefined> {
    return this.#orUndefined(
      async () =>
        (await this.#call<{ item: ItemRecord }>('GET', `/v1/items/${encodeURIComponent(itemId)}`)).item,
    );
  }

  /** True when it existed. */
  async deleteItem(itemId: string): Promise<boolean> {
    const found = await this.#orUndefined(() =>
      this.#call('DELETE', `/v1/items/${encodeURIComponent(itemId)}`),
    );
    return found !== undefined;
  }

  async putUser(userId: string, user: UserBody): Promise<UserRecord> {
    return (await this.#call<{ user: UserRecord }>('PUT', `/v1/users/${encodeURIComponent(userId)}`, user))
      .user;
  }

  async getUser(userId: string): Promise<UserRecord | undefined> {
    return this.#orUndefined(
      async () =>
        (await this.#call<{ user: UserRecord }>('GET', `/v1/users/${encodeURIComponent(userId)}`)).user,
    );
  }

  /**
   * Sends events now (at most API_LIMITS.maxBatchEvents per call; more are split). Invalid events
   * come back in `errors` with their index in `events`; the valid ones are accepted. With
   * `import: true` they are history being imported: serving's per-user cap of live traffic does
   * not apply (`POST /v1/events?import=true`).
   */
  async sendEvents(
    events: readonly InteractionEvent[],
    options: { readonly import?: boolean } = {},
  ): Promise<EventsResult> {
    const result: { accepted: number; rejected: number; errors: EventsResult['errors'][number][] } = {
      accepted: 0,
      rejected: 0,
      errors: [],
    };
    let requestId = '';
    for (let start = 0; start < events.length; start += API_LIMITS.maxBatchEvents) {
      const part = await this.#call<EventsResult>(
        'POST',
        options.import === true ? '/v1/events?import=true' : '/v1/events',
        events.slice(start, start + API_LIMITS.maxBatchEvents),
      );
      result.accepted += part.accepted;
      result.rejected += part.rejected;
      result.errors.push(...part.errors.map((e) => ({ ...e, index: e.index + start })));
      requestId = part.requestId;
    }
    return { ...result, requestId };
  }

  /** A batching publisher for a stream of events (see EventPublisher). */
  publisher(options: EventPublisherOptions = {}): EventPublisher {
    return new EventPublisher(this, options);
  }

  async #orUndefined<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof RecsysClientError && error.status === 404) return undefined;
      throw error;
    }
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let retryAfterMs: number | undefined;
      try {
        return await this.#once<T>(method, path, body);
      } catch (error) {
        // A POST of events is not retried on a network error after sending: it may have landed.
        const safe = error instanceof RecsysClientError && (error.status !== 0 || method === 'GET');
        if (!(error instanceof RecsysClientError) || !error.retriable || !safe || attempt >= this.#o.retries)
          throw error;
        retryAfterMs = (error as RecsysClientError & { retryAfterMs?: number }).retryAfterMs;
      }
      const delay = retryAfterMs ?? this.#o.backoffMs * 2 ** attempt;
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, 30_000)));
    }
  }

  async #once<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#o.apiKey !== undefined) headers['x-api-key'] = this.#o.apiKey;
    let res: Response;
    try {
      res = await this.#o.fetch(`${this.#o.baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
    } catch (cause) {
      const timeout = cause instanceof Error && cause.name === 'TimeoutError';
      throw new RecsysClientError(
        timeout ? 'TIMEOUT' : 'NETWORK_ERROR',
        0,
        timeout
          ? `${method} ${path} took longer than ${this.#o.timeoutMs} ms.`
          : `${method} ${path} failed: ${(cause as Error).message}`,
      );
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      if (res.ok) throw new RecsysClientError('BAD_RESPONSE', res.status, `${method} ${path}: not JSON.`);
    }
    if (res.ok) return json as T;
    const error = new RecsysClientError(
      typeof json['code'] === 'string' ? json['code'] : `HTTP_${res.status}`,
      res.status,
      typeof json['message'] === 'string' ? json['message'] : res.statusText,
      {
        ...(Array.isArray(json['issues'])
          ? { issues: json['issues'] as { path: string; reason: string }[] }
          : {}),
        ...(typeof json['requestId'] === 'string' ? { requestId: json['requestId'] } : {}),
      },
    );
    const retryAfter = Number(res.headers.get('retry-after'));
    if (Number.isFinite(retryAfter) && retryAfter > 0)
      Object.assign(error, { retryAfterMs: retryAfter * 1000 });
    throw error;
  }
}

export interface EventPublisherOptions {
  /** Send when this many events are waiting (default and maximum 500). */
  readonly batchSize?: number;
  /** Send at the latest this long after the first waiting event (default 50 ms). */
  readonly lingerMs?: number;
  /** Called with the events the API rejected as invalid (they are not retried). */
  readonly onRejected?: (rejected: { event: InteractionEvent; code: string; message: string }[]) => void;
}

/**
 * Collects events and sends them in batches (by size or after lingerMs), in order, one request at
 * a time; retriable failures are retried by the client. `flush()` sends what is waiting; `close()`
 * flushes and stops. Totals say what was accepted and rejected.
 */
export class EventPublisher {
  readonly #client: RecsysClient;
  readonly #batchSize: number;
  readonly #lingerMs: number;
  readonly #onRejected: EventPublisherOptions['onRejected'];
  #waiting: InteractionEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  #failure: unknown;
  accepted = 0;
  rejected = 0;

  constructor(client: RecsysClient, options: EventPublisherOptions) {
    this.#client = client;
    this.#batchSize = Math.min(
      API_LIMITS.maxBatchEvents,
      Math.max(1, options.batchSize ?? API_LIMITS.maxBatchEvents),
    );
    this.#lingerMs = options.lingerMs ?? 50;
    this.#onRejected = options.onRejected;
  }

  /** Queues an event; throws the error that stopped an earlier batch, if any. */
  publish(event: InteractionEvent): void {
    if (this.#failure !== undefined) throw this.#failure;
    this.#waiting.push(event);
    if (this.#waiting.length >= this.#batchSize) this.#send();
    else this.#timer ??= setTimeout(() => this.#send(), this.#lingerMs);
  }

  /** Sends everything queued so far and waits for it. */
  async flush(): Promise<void> {
    this.#send();
    await this.#chain;
    if (this.#failure !== undefined) throw this.#failure;
  }

  async close(): Promise<void> {
    await this.flush();
  }

  #send(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#waiting.length === 0) return;
    const batch = this.#waiting;
    this.#waiting = [];
    this.#chain = this.#chain.then(async () => {
      if (this.#failure !== undefined) return;
      try {
        const result = await this.#client.sendEvents(batch);
        this.accepted += result.accepted;
        this.rejected += result.rejected;
        if (result.errors.length > 0)
          this.#onRejected?.(
            result.errors.map((e) => ({
              event: batch[e.index] as InteractionEvent,
              code: e.code,
              message: e.message,
            })),
          );
      } catch (error) {
        this.#failure = error;
      }
    });
  }
}
