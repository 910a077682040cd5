import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../../shared/errors/index.ts';
import { RECOMMENDATION_QUERY_KEYS } from '../../../shared/schemas/api.ts';
import { row, seedModel, servingHarness } from '../../support/serving.ts';

/**
 * Property-based fuzzing of every route: random and adversarial bodies (invalid JSON, deep
 * nesting, huge numbers, prototype-pollution keys, wrong content types) and query strings. No
 * response may be a 5xx, every rejection must carry a catalogued code with its catalogued status,
 * and no prototype may be polluted afterwards.
 */
const RUNS = Number(process.env['RECSYS_FUZZ_RUNS'] ?? 1_700); // x 6 properties >= 10,000 requests

type Harness = Awaited<ReturnType<typeof servingHarness>>;
let h: Harness;

beforeAll(async () => {
  h = await servingHarness({
    config: { serving: { userEventsPerMinute: 1_000_000, bodyLimitBytes: 65_536 } },
  });
  await h.store.putItems([{ id: 'a', record: { itemId: 'a', tags: ['x'] } }]);
  await seedModel(h.store, {
    items: { a: row([1, 0, 0, 0], 0, 3), b: row([0, 1, 0, 0], 0, 3) },
    users: { u: row([1, 1, 0, 0], 0, 3) },
    popularity: { '*': { a: 2, b: 1 } },
  });
  await h.engine.refreshOnce();
});
afterAll(async () => h.close());

const hostile = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '',
  ' ',
  '\u0000',
  '\ud800',
  'userId',
  'itemId',
  'k',
  'type',
  'context',
  '%00',
  '../../etc/passwd',
  'a'.repeat(300),
);

const leaf = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  hostile,
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 0, -0, 1e-320),
  fc.boolean(),
  fc.constant(null),
);

const value = fc.letrec((tie) => ({
  node: fc.oneof({ maxDepth: 4 }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('node'), { maxLength: 5 }),
  object: fc.dictionary(fc.oneof(hostile, fc.string({ maxLength: 10 })), tie('node'), { maxKeys: 6 }),
})).node;

/** Plausible bodies with one field broken, so validation is exercised past the first check. */
const nearlyValid = fc.record(
  {
    userId: fc.oneof(fc.constant('u'), leaf),
    itemId: fc.oneof(fc.constant('a'), leaf),
    type: fc.oneof(fc.constantFrom('click', 'view', 'rating', 'teleport'), leaf),
    k: fc.oneof(fc.integer({ min: -5, max: 200 }), leaf),
    offset: fc.oneof(fc.integer({ min: -5, max: 2_000 }), leaf),
    context: fc.oneof(
      fc.dictionary(fc.oneof(hostile, fc.string({ maxLength: 8 })), leaf, { maxKeys: 40 }),
      leaf,
    ),
    exclude: fc.oneof(fc.array(fc.oneof(fc.string(), leaf), { maxLength: 20 }), leaf),
    value: leaf,
    timestamp: fc.oneof(fc.integer(), fc.string(), leaf),
    categories: fc.oneof(fc.array(fc.string(), { maxLength: 70 }), leaf),
    hidden: leaf,
    resultId: fc.oneof(fc.uuid(), leaf),
  },
  { requiredKeys: [] },
);

const rawText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    '',
    '{',
    '[',
    'null',
    'true',
    '"text"',
    '1e400',
    '-1e400',
    '{"userId":"u","k":1e400}',
    '{"__proto__":{"polluted":1},"userId":"u"}',
    '{"constructor":{"prototype":{"polluted":1}},"userId":"u"}',
    '{"userId":"u","context":{"__proto__":{"polluted":1}}}',
    '[{"userId":"u","itemId":"a","type":"click","__proto__":{"polluted":1}}]',
    '\uFEFF{"userId":"u"}',
    '{"userId":"u"}{"userId":"v"}',
    '{"userId":"\\ud800"}',
  ),
  fc.nat({ max: 5_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.nat({ max: 5_000 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  fc.nat({ max: 3_000 }).map((depth) => '['.repeat(depth)),
);

const routes = [
  { method: 'POST', url: '/v1/recommendations' },
  { method: 'POST', url: '/v1/events' },
  { method: 'PUT', url: '/v1/items/a' },
  { method: 'PUT', url: '/v1/users/u' },
] as const;

const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  '',
  'application/json; charset=latin1',
);

/** Percent-encodes, passing lone surrogates as the (invalid) bytes a hostile client would send. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

let requests = 0;

function assertCatalogued(res: { statusCode: number; body: string }): void {
  requests++;
  expect(res.statusCode, res.body).toBeLessThan(500);
  if (res.statusCode >= 400) {
    const body = JSON.parse(res.body) as { code: keyof typeof ERROR_CATALOGUE; message: string };
    expect(ERROR_CATALOGUE[body.code], res.body).toBeDefined();
    expect(ERROR_CATALOGUE[body.code].status).toBe(res.statusCode);
    expect(typeof body.message).toBe('string');
  }
  expect(res.body).not.toMatch(/\n\s+at /);
}

function assertNoPollution(): void {
  const probe = {} as Record<string, unknown>;
  expect(probe['polluted']).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty('polluted');
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(Object.keys(Array.prototype)).toEqual([]);
}

describe('fuzzing every route', () => {
  it('survives random JSON values on every write and body route', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(value, nearlyValid, fc.array(nearlyValid, { maxLength: 5 })),
        async (route, body) => {
          const res = await h.app.inject({
            method: route.method,
            url: route.url,
            payload: JSON.stringify(body) ?? 'null',
            headers: { 'content-type': 'application/json' },
          });
          assertCatalogued(res);
        },
      ),
      { numRuns: RUNS, seed: 11 },
    );
    assertNoPollution();
  }, 300_000);

  it('survives raw, broken and deeply nested text with any content type', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), rawText, contentTypes, async (route, text, type) => {
        const res = await h.app.inject({
          method: route.method,
          url: route.url,
          payload: text,
          headers: type === '' ? {} : { 'content-type': type },
        });
        assertCatalogued(res);
      }),
      { numRuns: RUNS, seed: 12 },
    );
    assertNoPollution();
  }, 300_000);

  it('survives random query strings on every GET route', async () => {
    const key = fc.oneof(
      hostile,
      fc.constantFrom(...RECOMMENDATION_QUERY_KEYS, 'device', 'hour'),
      fc.string({ maxLength: 8 }),
    );
    const val = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.integer().map(String),
      fc.constantFrom('1e400', 'NaN', '-1', '', 'true', '%', '%zz', '%00', 'a'.repeat(3_000)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          '/v1/users/u/recommendations',
          '/v1/popular',
          '/v1/items/a/similar',
          '/v1/items/a',
          '/v1/users/u',
        ),
        fc.array(fc.tuple(key, val), { maxLength: 40 }),
        async (path, pairs) => {
          const query = pairs.map(([k, v]) => `${encode(k)}=${v.startsWith('%') ? v : encode(v)}`).join('&');
          const res = await h.app.inject({ method: 'GET', url: `${path}?${query}` });
          assertCatalogued(res);
        },
      ),
      { numRuns: RUNS, seed: 13 },
    );
    assertNoPollution();
  }, 300_000);

  it('survives random path ids and methods', async () => {
    const segment = fc.oneof(
      fc.string({ maxLength: 300 }),
      hostile,
      fc.constantFrom('%', '%zz', '%E0%A4%A', '..', '%2F', 'a%00b'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
        fc.constantFrom('/v1/items/', '/v1/users/', '/v1/items/x/similar?id=', '/v1/'),
        segment,
        async (method, prefix, id) => {
          const raw = id.includes('%') ? id : encode(id);
          const res = await h.app.inject({
            method: method as 'GET',
            url: `${prefix}${raw}`,
            ...(method === 'PUT' || method === 'POST' ? { payload: {} } : {}),
          });
          if (method !== 'HEAD') assertCatalogued(res);
          else {
            requests++;
            expect(res.statusCode).toBeLessThan(500);
          }
        },
      ),
      { numRuns: RUNS, seed: 14 },
    );
  }, 300_000);

  it('survives random event batches (per-event errors, never a 5xx)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(nearlyValid, value), { minLength: 1, maxLength: 30 }),
        async (batch) => {
          const res = await h.app.inject({
            method: 'POST',
            url: '/v1/events',
            payload: JSON.stringify(batch),
            headers: { 'content-type': 'application/json' },
          });
          assertCatalogued(res);
          if (res.statusCode === 202) {
            const body = JSON.parse(res.body) as {
              accepted: number;
              rejected: number;
              errors: { code: string }[];
            };
            expect(body.accepted + body.rejected).toBe(batch.length);
            for (const e of body.errors)
              expect(ERROR_CATALOGUE[e.code as keyof typeof ERROR_CATALOGUE]).toBeDefined();
          }
        },
      ),
      { numRuns: RUNS, seed: 15 },
    );
    assertNoPollution();
  }, 300_000);

  it('survives recommendation requests with valid shapes and random values', async () => {
    const request = fc.record(
      {
        userId: fc.oneof(fc.constant('u'), fc.string({ minLength: 1, maxLength: 20 })),
        k: fc.integer({ min: 1, max: 100 }),
        offset: fc.integer({ min: 0, max: 1_000 }),
        context: fc.dictionary(
          fc.constantFrom('device', 'hour', 'dow', 'locale'),
          fc.oneof(
            fc.string({ maxLength: 10 }),
            fc.integer({ min: -5, max: 30 }),
            fc.double({ noNaN: true, noDefaultInfinity: true }),
            fc.boolean(),
          ),
        ),
        exclude: fc.uniqueArray(fc.constantFrom('a', 'b', 'c'), { maxLength: 3 }),
        category: fc.string({ minLength: 1, maxLength: 10 }),
        filterSeen: fc.boolean(),
        maxPerCategory: fc.integer({ min: 1, max: 100 }),
      },
      { requiredKeys: ['userId'] },
    );
    await fc.assert(
      fc.asyncProperty(request, async (body) => {
        const res = await h.app.inject({ method: 'POST', url: '/v1/recommendations', payload: body });
        assertCatalogued(res);
      }),
      { numRuns: RUNS, seed: 16 },
    );
  }, 300_000);

  it('sent at least 10,000 fuzzed requests in all', () => {
    expect(requests).toBeGreaterThanOrEqual(RUNS === 1_700 ? 10_000 : 6 * RUNS);
  });
});
