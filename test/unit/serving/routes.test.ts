import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../../shared/errors/index.ts';
import { MemoryEventLog, MemoryModelStore } from '../../../shared/adapters/memory/index.ts';
import type { Config, DeepPartial } from '../../../shared/config/index.ts';
import type { EventLog } from '../../../shared/ports/index.ts';
import { row, seedModel, servingHarness } from '../../support/serving.ts';

type Harness = Awaited<ReturnType<typeof servingHarness>>;
let current: Harness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

/**
 * A small world: four items in two categories, a user who likes "a" and has seen "c", popularity
 * making "b" the most popular overall and "d" the most popular on mobile in the evening.
 */
async function world(
  config: DeepPartial<Config> = {},
  options: { eventLog?: EventLog; store?: MemoryModelStore } = {},
) {
  const h = await servingHarness({ config, ...options });
  current = h;
  await h.store.putItems([
    { id: 'a', record: { itemId: 'a', categories: ['books'], tags: ['sf'] } },
    { id: 'b', record: { itemId: 'b', categories: ['music'], tags: ['jazz'] } },
    { id: 'c', record: { itemId: 'c', categories: ['books'], tags: ['sf'] } },
    { id: 'd', record: { itemId: 'd', categories: ['music'], tags: ['rock'] } },
  ]);
  await seedModel(h.store, {
    items: {
      a: row([1, 0, 0, 0], 0, 50),
      b: row([0, 1, 0, 0], 0, 50),
      c: row([0.9, 0.1, 0, 0], 0, 50),
      d: row([0, 0, 1, 0], 0, 50),
    },
    users: { u1: row([2, 0, 0, 0], 0, 100) },
    histories: { u1: ['c'] },
    popularity: { '*': { a: 1, b: 5, c: 2, d: 3 }, 'device=mobile|hour=evening': { d: 9, a: 1 } },
  });
  await h.engine.refreshOnce();
  return h;
}

/** A store that can be made to hang (every call never answers) or fail. */
function switchableStore(inner: MemoryModelStore): MemoryModelStore & { mode: 'up' | 'hang' | 'fail' } {
  const state = { mode: 'up' as 'up' | 'hang' | 'fail' };
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'mode') return state.mode;
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function' || key === 'kind') return value;
      return (...args: unknown[]) => {
        if (state.mode === 'hang') return new Promise(() => undefined);
        if (state.mode === 'fail') return Promise.reject(new Error('connection refused'));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
    set(_target, key, value) {
      if (key === 'mode') {
        state.mode = value as 'up' | 'hang' | 'fail';
        return true;
      }
      return false;
    },
  }) as MemoryModelStore & { mode: 'up' | 'hang' | 'fail' };
}

function json(res: { body: string }): Record<string, unknown> {
  return JSON.parse(res.body) as Record<string, unknown>;
}

function ids(res: { body: string }): string[] {
  return (json(res)['items'] as { itemId: string }[]).map((i) => i.itemId);
}

function expectError(res: { statusCode: number; body: string }, code: keyof typeof ERROR_CATALOGUE): void {
  const body = json(res);
  expect(body['code'], res.body).toBe(code);
  expect(res.statusCode).toBe(ERROR_CATALOGUE[code].status);
  expect(typeof body['message']).toBe('string');
  expect(typeof body['requestId']).toBe('string');
  expect(res.body).not.toMatch(/\n\s+at /); // no stack trace
}

describe('POST /v1/recommendations', () => {
  it('ranks the model-preferred items for an active user, leaves out seen items, labels sources', async () => {
    const h = await world();
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/recommendations',
      payload: { userId: 'u1', k: 3 },
    });
    expect(res.statusCode).toBe(200);
    const body = json(res);
    expect(body['userId']).toBe('u1');
    expect(ids(res)[0]).toBe('a');
    expect(ids(res)).not.toContain('c'); // seen
    const items = body['items'] as { score: number; source: string }[];
    for (const item of items) {
      expect(item.score).toBeGreaterThanOrEqual(0);
      expect(item.score).toBeLessThanOrEqual(1);
      expect(['mf', 'neumf', 'content', 'popular', 'session']).toContain(item.source);
    }
    expect(items[0]?.source).toBe('mf');
    expect(body['modelVersion']).toMatch(/^mf\.\d+$/);
    expect(res.headers['x-request-id']).toBe(body['requestId']);
  });

  it('keeps seen items when filterSeen is false, and honours exclude and category', async () => {
    const h = await world();
    const all = await h.app.inject({
      method: 'POST',
      url: '/v1/recommendations',
      payload: { userId: 'u1', filterSeen: false },
    });
    expect(ids(all)).toContain('c');
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/recommendations',
      payload: { userId: 'u1', exclude: ['a'], category: 'music' },
    });
    expect(ids(res).sort()).toEqual(['b', 'd']);
  });

  it('gives an unknown user the popular items of their context, not an error', async () => {
    const h = await world();
    const evening = await h.app.inject({
      method: 'POST',
      url: '/v1/recommendations',
      payload: { userId: 'stranger', k: 2, context: { device: 'mobile', hour: 20 } },
    });
    expect(evening.statusCode).toBe(200);
    expect(ids(evening)).toEqual(['d', 'a']);
    expect((json(evening)['items'] as { source: string }[]).every((i) => i.source === 'popular')).toBe(true);
    const anyTime = await h.app.inject({
      method: 'POST',
      url: '/v1/recommendations',
      payload: { userId: 'stranger', k: 2 },
    });
    expect(ids(anyTime)[0]).toBe('b');
  });

  it('limits items per category when asked (diversity)', async () => {
    const h = await world();
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/recommendations',
      payload: { userId: 'stranger', k: 4, maxPerCategory: 1 },
    });
    const got = ids(res);
    expect(got).toHaveLength(2);
    expect(new Set(got.map((id) => (['a', 'c'].includes(id) ? 'books' : 'music'))).size).toBe(2);
  });

  it('pages through one ranking with resultId: no item twice, and an unknown resultId is 410', async () => {
    const h = await world();
    const first = await h.app.inject({
      method: 'POST',
      url: '/v1/recommendations',
      payload: { userId: 'stranger', k: 2 },
    });
    const resultId = json(first)['resultId'] as string;
    // The model changes between the pages: the second page still continues the first ranking.
    await seedModel(h.store, { popularity: { '*': { a: 100 } } });
    await h.engine.refreshOnce();
    const second = await h.app.inject({
      method: 'POST',
      url: '/v1/recommendations',
      payload: { userId: 'stranger', k: 2, offset: 2, resultId },
    });
    expect(second.statusCode).toBe(200);
    const pages = [...ids(first), ...ids(second)];
    expect(new Set(pages).size).toBe(pages.length);
    expect(pages.sort()).toEqual(['a', 'b', 'c', 'd']);
    const other = await h.app.inject({
      method: 'POST',
      url: '/v1/recommendations',
      payload: { userId: 'someone-else', k: 2, offset: 2, resultId },
    });
    expectError(other, 'RESULT_EXPIRED');
    // A later page with other filters would silently show page 0's: refused with 409.
    for (const changed of [{ category: 'books' }, { exclude: ['a'] }, { maxPerCategory: 1 }]) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/v1/recommendations',
        payload: { userId: 'stranger', k: 2, offset: 2, resultId, ...changed },
      });
      expectError(res, 'RESULT_MISMATCH');
    }
  });

  it('rejects bad bodies with catalogued codes', async () => {
    const h = await world();
    const post = (payload: string, type = 'application/json') =>
      h.app.inject({
        method: 'POST',
        url: '/v1/recommendations',
        payload,
        headers: { 'content-type': type },
      });
    expectError(await post('{"userId":"u1","k":0}'), 'VALIDATION_FAILED');
    expectError(await post('{"userId":"u1","k":101}'), 'VALIDATION_FAILED');
    const unknown = await post('{"userId":"u1","surprise":1}');
    expectError(unknown, 'VALIDATION_FAILED');
    expect(JSON.stringify(json(unknown)['issues'])).toContain('surprise');
    expectError(await post('{"userId":'), 'MALFORMED_JSON');
    expectError(await post('{"userId":"u1","__proto__":{"x":1}}'), 'FORBIDDEN_KEY');
    expectError(
      await post('{"userId":"u1","context":{"constructor":{"prototype":{"x":1}}}}'),
      'FORBIDDEN_KEY',
    );
    expectError(await post('userId=u1', 'text/plain'), 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await post(''), 'MALFORMED_JSON');
    expectError(await post('{"userId":"bad\\u0000id"}'), 'VALIDATION_FAILED');
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });

  it('answers 413 for a body over the limit', async () => {
    const h = await world({ serving: { bodyLimitBytes: 2_048 } });
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/recommendations',
      payload: { userId: 'u1', exclude: Array.from({ length: 300 }, (_, i) => `item-${i}`) },
    });
    expectError(res, 'PAYLOAD_TOO_LARGE');
  });
});

describe('GET /v1/users/:userId/recommendations', () => {
  it('takes k, exclude, category and context from the query string', async () => {
    const h = await world();
    const res = await h.app.inject({
      method: 'GET',
      url: '/v1/users/stranger/recommendations?k=1&device=mobile&hour=21',
    });
    expect(res.statusCode).toBe(200);
    expect(ids(res)).toEqual(['d']);
    const excluded = await h.app.inject({
      method: 'GET',
      url: '/v1/users/stranger/recommendations?k=4&exclude=b,d&category=books',
    });
    expect(ids(excluded).sort()).toEqual(['a', 'c']);
    expectError(
      await h.app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?k=abc' }),
      'VALIDATION_FAILED',
    );
    expectError(
      await h.app.inject({ method: 'GET', url: '/v1/users/u1/recommendations?__proto__=1' }),
      'FORBIDDEN_KEY',
    );
  });
});

describe('GET /v1/popular and /v1/items/:itemId/similar', () => {
  it('lists popular items per context, scaled to [0, 1]', async () => {
    const h = await world();
    const res = await h.app.inject({ method: 'GET', url: '/v1/popular?k=3' });
    expect(ids(res)).toEqual(['b', 'd', 'c']);
    expect((json(res)['items'] as { score: number }[])[0]?.score).toBe(1);
    const mobile = await h.app.inject({ method: 'GET', url: '/v1/popular?k=1&device=mobile&hour=19' });
    expect(ids(mobile)).toEqual(['d']);
    // A segment nobody was seen in: the global list with its own proportions (5 : 3 : 2 : 1).
    const tablet = await h.app.inject({ method: 'GET', url: '/v1/popular?k=4&device=tablet' });
    const scores = (json(tablet)['items'] as { itemId: string; score: number }[]).map((e) => [
      e.itemId,
      e.score,
    ]);
    expect(scores).toEqual([
      ['b', 1],
      ['d', 0.6],
      ['c', 0.4],
      ['a', 0.2],
    ]);
  });

  it('finds similar items and 404s an unknown item', async () => {
    const h = await world();
    const res = await h.app.inject({ method: 'GET', url: '/v1/items/a/similar?k=2' });
    expect(res.statusCode).toBe(200);
    expect(ids(res)[0]).toBe('c'); // nearest vector, and the same tag
    expectError(await h.app.inject({ method: 'GET', url: '/v1/items/nope/similar' }), 'NOT_FOUND');
    expectError(
      await h.app.inject({ method: 'GET', url: '/v1/items/a/similar?k=1000' }),
      'VALIDATION_FAILED',
    );
  });
});

describe('catalog routes', () => {
  it('puts, gets and deletes items; hidden and deleted items are never recommended', async () => {
    const h = await world();
    const put = await h.app.inject({
      method: 'PUT',
      url: '/v1/items/e',
      payload: { tags: ['sf'], categories: ['books'] },
    });
    expect(put.statusCode).toBe(200);
    expect((json(put)['item'] as { itemId: string }).itemId).toBe('e');
    const got = await h.app.inject({ method: 'GET', url: '/v1/items/e' });
    expect(json(got)['item']).toEqual({ itemId: 'e', tags: ['sf'], categories: ['books'] });
    await h.app.inject({ method: 'PUT', url: '/v1/items/b', payload: { hidden: true } });
    const del = await h.app.inject({ method: 'DELETE', url: '/v1/items/d' });
    expect(del.statusCode).toBe(204);
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/recommendations',
      payload: { userId: 'stranger', k: 10 },
    });
    expect(ids(res)).not.toContain('b');
    expect(ids(res)).not.toContain('d');
    expectError(await h.app.inject({ method: 'DELETE', url: '/v1/items/d' }), 'NOT_FOUND');
    expectError(await h.app.inject({ method: 'GET', url: '/v1/items/zzz' }), 'NOT_FOUND');
    expectError(
      await h.app.inject({ method: 'PUT', url: '/v1/items/x', payload: { itemId: 'y' } }),
      'VALIDATION_FAILED',
    );
    expectError(
      await h.app.inject({ method: 'PUT', url: '/v1/items/x', payload: { tags: 'sf' } }),
      'VALIDATION_FAILED',
    );
  });

  it('puts and gets users', async () => {
    const h = await world();
    const put = await h.app.inject({
      method: 'PUT',
      url: '/v1/users/u9',
      payload: { attributes: { country: 'fr' } },
    });
    expect(put.statusCode).toBe(200);
    expect(json(await h.app.inject({ method: 'GET', url: '/v1/users/u9' }))['user']).toEqual({
      userId: 'u9',
      attributes: { country: 'fr' },
    });
    expectError(await h.app.inject({ method: 'GET', url: '/v1/users/nobody' }), 'NOT_FOUND');
  });
});

describe('POST /v1/events', () => {
  async function consumed(log: MemoryEventLog): Promise<number> {
    const ends = await log.endOffsets();
    return [...ends.values()].reduce((a, b) => a + b, 0);
  }

  it('accepts one event with 202 and appends it to the event log', async () => {
    const log = new MemoryEventLog({ partitions: 2 });
    const h = await world({}, { eventLog: log });
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: { userId: 'u1', itemId: 'a', type: 'click' },
    });
    expect(res.statusCode).toBe(202);
    expect(json(res)).toMatchObject({ accepted: 1, rejected: 0, errors: [] });
    expect(await consumed(log)).toBe(1);
  });

  it('accepts the valid events of a batch and reports the invalid ones by index', async () => {
    const log = new MemoryEventLog({ partitions: 2 });
    const h = await world({}, { eventLog: log });
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: [
        { userId: 'u1', itemId: 'a', type: 'click' },
        { userId: 'u1', itemId: 'b', type: 'teleport' },
        { userId: 'u2', itemId: 'b', type: 'rating' },
        'not an event',
        { userId: 'u2', itemId: 'c', type: 'view', context: { device: 'tv' } },
      ],
    });
    expect(res.statusCode).toBe(202);
    const body = json(res) as {
      accepted: number;
      rejected: number;
      errors: { index: number; code: string }[];
    };
    expect(body.accepted).toBe(2);
    expect(body.rejected).toBe(3);
    expect(body.errors.map((e) => [e.index, e.code])).toEqual([
      [1, 'EVENT_INVALID'],
      [2, 'EVENT_INVALID'],
      [3, 'EVENT_INVALID'],
    ]);
    expect(await consumed(log)).toBe(2);
  });

  it('rejects a single invalid event with 400, and batches out of bounds', async () => {
    const h = await world();
    expectError(
      await h.app.inject({ method: 'POST', url: '/v1/events', payload: { userId: 'u1' } }),
      'EVENT_INVALID',
    );
    expectError(await h.app.inject({ method: 'POST', url: '/v1/events', payload: [] }), 'VALIDATION_FAILED');
    const big = Array.from({ length: 501 }, (_, i) => ({ userId: `u${i}`, itemId: 'a', type: 'click' }));
    expectError(await h.app.inject({ method: 'POST', url: '/v1/events', payload: big }), 'VALIDATION_FAILED');
  });

  it('caps events per user per minute with 429 and Retry-After', async () => {
    const h = await world({ serving: { userEventsPerMinute: 3 } });
    const batch = Array.from({ length: 5 }, () => ({ userId: 'flood', itemId: 'a', type: 'click' }));
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: [...batch, { userId: 'calm', itemId: 'a', type: 'click' }],
    });
    expect(json(res)).toMatchObject({ accepted: 4, rejected: 2 });
    const single = await h.app.inject({ method: 'POST', url: '/v1/events', payload: batch[0] });
    expectError(single, 'RATE_LIMITED');
    expect(Number(single.headers['retry-after'])).toBeGreaterThan(0);
    // An import of history is not a flood: ?import=true skips the cap (writes still need a key).
    const imported = await h.app.inject({ method: 'POST', url: '/v1/events?import=true', payload: batch });
    expect(json(imported)).toMatchObject({ accepted: 5, rejected: 0 });
    expectError(
      await h.app.inject({ method: 'POST', url: '/v1/events?import=maybe', payload: batch }),
      'VALIDATION_FAILED',
    );
  });

  it('answers 503 LOG_UNAVAILABLE when the log refuses, and publishes nothing', async () => {
    const log = new MemoryEventLog({ partitions: 2 });
    const h = await world({}, { eventLog: log });
    await log.close();
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: { userId: 'u1', itemId: 'a', type: 'click' },
    });
    expect([503]).toContain(res.statusCode);
    expect(['LOG_UNAVAILABLE']).toContain(json(res)['code']);
    expect(res.headers['retry-after']).toBeDefined();
  });
});

describe('security and limits', () => {
  const write = 'w'.repeat(20);
  const read = 'r'.repeat(20);

  it('requires a write key on write routes and a read key on read routes when configured', async () => {
    const h = await world({ serving: { writeApiKeys: [write], readApiKeys: [read] } });
    const event = { userId: 'u1', itemId: 'a', type: 'click' };
    expectError(await h.app.inject({ method: 'POST', url: '/v1/events', payload: event }), 'UNAUTHORIZED');
    expectError(
      await h.app.inject({
        method: 'POST',
        url: '/v1/events',
        payload: event,
        headers: { 'x-api-key': 'x'.repeat(20) },
      }),
      'UNAUTHORIZED',
    );
    expectError(
      await h.app.inject({
        method: 'POST',
        url: '/v1/events',
        payload: event,
        headers: { 'x-api-key': read },
      }),
      'FORBIDDEN',
    );
    const ok = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: event,
      headers: { authorization: `Bearer ${write}` },
    });
    expect(ok.statusCode).toBe(202);
    expectError(await h.app.inject({ method: 'GET', url: '/v1/popular' }), 'UNAUTHORIZED');
    expect(
      (await h.app.inject({ method: 'GET', url: '/v1/popular', headers: { 'x-api-key': read } })).statusCode,
    ).toBe(200);
    expect(
      (await h.app.inject({ method: 'GET', url: '/v1/popular', headers: { 'x-api-key': write } })).statusCode,
    ).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // /metrics is a read route: figures reveal traffic and catalog size.
    expectError(await h.app.inject({ method: 'GET', url: '/metrics' }), 'UNAUTHORIZED');
    expect(
      (await h.app.inject({ method: 'GET', url: '/metrics', headers: { 'x-api-key': read } })).statusCode,
    ).toBe(200);
  });

  it('keeps writes closed when only read keys are configured, unless serving.openWrites opens them', async () => {
    const event = { userId: 'u1', itemId: 'a', type: 'click' };
    const closed = await world({ serving: { readApiKeys: [read] } });
    expectError(
      await closed.app.inject({ method: 'POST', url: '/v1/events', payload: event }),
      'UNAUTHORIZED',
    );
    const forbidden = await closed.app.inject({
      method: 'POST',
      url: '/v1/events',
      payload: event,
      headers: { 'x-api-key': read },
    });
    expectError(forbidden, 'FORBIDDEN');
    expect(json(forbidden)['message']).toMatch(/RECSYS_WRITE_API_KEYS/);
    expectError(
      await closed.app.inject({ method: 'PUT', url: '/v1/items/z', payload: { categories: ['x'] } }),
      'UNAUTHORIZED',
    );
    await closed.close();
    const open = await world({ serving: { readApiKeys: [read], openWrites: true } });
    expect((await open.app.inject({ method: 'POST', url: '/v1/events', payload: event })).statusCode).toBe(
      202,
    );
    expectError(await open.app.inject({ method: 'GET', url: '/v1/popular' }), 'UNAUTHORIZED');
  });

  it('rate-limits per key or address with 429 and Retry-After', async () => {
    const h = await world({ serving: { rateLimitPerMinute: 3 } });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++)
      codes.push((await h.app.inject({ method: 'GET', url: '/v1/popular' })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    const limited = await h.app.inject({ method: 'GET', url: '/v1/popular' });
    expectError(limited, 'RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('keeps CORS off by default and allows only configured origins', async () => {
    const off = await world();
    const res = await off.app.inject({
      method: 'GET',
      url: '/v1/popular',
      headers: { origin: 'https://shop.example' },
    });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    await off.close();
    const on = await world({ serving: { corsOrigins: ['https://shop.example'] } });
    const allowed = await on.app.inject({
      method: 'GET',
      url: '/v1/popular',
      headers: { origin: 'https://shop.example' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://shop.example');
    const other = await on.app.inject({
      method: 'GET',
      url: '/v1/popular',
      headers: { origin: 'https://evil.example' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers 404 for unknown routes and 405 with Allow for a wrong method', async () => {
    const h = await world();
    expectError(await h.app.inject({ method: 'GET', url: '/v2/nothing' }), 'ROUTE_NOT_FOUND');
    const wrong = await h.app.inject({ method: 'POST', url: '/v1/popular', payload: {} });
    expectError(wrong, 'METHOD_NOT_ALLOWED');
    expect(wrong.headers['allow']).toContain('GET');
    expectError(
      await h.app.inject({ method: 'GET', url: '/v1/items/%E0%A4%A/similar' }),
      'VALIDATION_FAILED',
    );
  });
});

describe('operations routes', () => {
  it('reports liveness, readiness, metrics without ids, and the OpenAPI document', async () => {
    const h = await world();
    expect(json(await h.app.inject({ method: 'GET', url: '/healthz' }))).toEqual({ status: 'ok' });
    const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    await h.app.inject({ method: 'GET', url: '/v1/users/secret-user-42/recommendations' });
    const metrics = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('recsys_serving_request_seconds_bucket');
    expect(metrics.body).toContain('route="/v1/users/:userId/recommendations"');
    expect(metrics.body).toContain('recsys_serving_items_served_total{source="popular"');
    expect(metrics.body).not.toContain('secret-user-42');
    const doc = json(await h.app.inject({ method: 'GET', url: '/openapi.json' }));
    const paths = Object.keys(doc['paths'] as object);
    for (const path of [
      '/v1/recommendations',
      '/v1/users/{userId}/recommendations',
      '/v1/popular',
      '/v1/items/{itemId}/similar',
      '/v1/items/{itemId}',
      '/v1/users/{userId}',
      '/v1/events',
      '/healthz',
      '/readyz',
    ])
      expect(paths).toContain(path);
    const ui = await h.app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
  });

  it('is not ready (503 NOT_READY) while the index cannot be loaded', async () => {
    const store = switchableStore(new MemoryModelStore());
    store.mode = 'fail';
    const h = await servingHarness({ store, config: { serving: { storeTimeoutMs: 50, readyWaitMs: 50 } } });
    current = h;
    store.mode = 'hang';
    const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
    expectError(ready, 'NOT_READY');
    expect(json(ready)['message']).toContain('not loaded');
    expect(ready.headers['retry-after']).toBeDefined();
    // Nothing loaded yet and the store hangs: after serving.readyWaitMs, a deliberate 503.
    expectError(
      await h.app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'u1' } }),
      'NOT_READY',
    );
  }, 20_000);

  it('serves from memory when the store hangs: popular fallback, fast, marked degraded; writes get 503', async () => {
    const store = switchableStore(new MemoryModelStore());
    const h = await world({ serving: { storeTimeoutMs: 50 } }, { store });
    await h.app.inject({ method: 'POST', url: '/v1/recommendations', payload: { userId: 'u1' } }); // caches popular
    store.mode = 'hang';
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const res = await h.app.inject({
        method: 'POST',
        url: '/v1/recommendations',
        payload: { userId: 'u1', k: 2 },
      });
      expect(performance.now() - started).toBeLessThan(500);
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-recsys-degraded']).toBe('1');
      // Nothing about the user can be read: the two most popular items.
      expect(ids(res)).toEqual(['b', 'd']);
    }
    expect(h.engine.guard.state).toBe('open');
    const put = await h.app.inject({ method: 'PUT', url: '/v1/items/z', payload: {} });
    expectError(put, 'STORE_UNAVAILABLE');
    expect(put.headers['retry-after']).toBeDefined();
    expectError(await h.app.inject({ method: 'GET', url: '/readyz' }), 'NOT_READY');
    const similar = await h.app.inject({ method: 'GET', url: '/v1/items/a/similar?k=1' });
    expect(similar.statusCode).toBe(200); // the item matrix is in memory
  }, 20_000);

  it('serves /metrics only on the separate port when one is configured', async () => {
    const h = await world({ serving: { metricsPort: 9999 } });
    expectError(await h.app.inject({ method: 'GET', url: '/metrics' }), 'ROUTE_NOT_FOUND');
  });
});
