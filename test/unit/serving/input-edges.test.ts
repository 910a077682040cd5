import { afterEach, describe, expect, it } from 'vitest';
import { MemoryEventLog } from '../../../shared/adapters/memory/index.ts';
import { createEventCodec } from '../../../shared/schemas/index.ts';
import { defaultConfig } from '../../../shared/config/index.ts';
import { row, seedModel, servingHarness } from '../../support/serving.ts';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function harness() {
  const eventLog = new MemoryEventLog({ partitions: 1 });
  const h = await servingHarness({ eventLog });
  close = () => h.close();
  return { h, eventLog };
}

const logged = async (eventLog: MemoryEventLog) =>
  [...(await eventLog.endOffsets()).values()].reduce((a, b) => a + b, 0);

describe('HTTP input at the edges of text', () => {
  it('refuses a body that is not valid UTF-8 with MALFORMED_JSON and logs nothing', async () => {
    const { h, eventLog } = await harness();
    for (const bad of [0xff, 0xfe]) {
      // {"userId":"<bad byte>","itemId":"i1","type":"click"}: a lenient decoder made both U+FFFD.
      const payload = Buffer.concat([
        Buffer.from('{"userId":"'),
        Buffer.from([bad]),
        Buffer.from('","itemId":"i1","type":"click"}'),
      ]);
      const res = await h.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'MALFORMED_JSON' });
      expect((res.json() as { message: string }).message).toMatch(/UTF-8/);
    }
    expect(await logged(eventLog)).toBe(0);
  });

  it('refuses a lone surrogate in an id with EVENT_INVALID, and only that event of a batch', async () => {
    const { h, eventLog } = await harness();
    const single = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/json' },
      payload: '{"userId":"\\ud800","itemId":"i1","type":"click"}',
    });
    expect(single.statusCode).toBe(400);
    expect(single.json()).toMatchObject({ code: 'EVENT_INVALID', issues: [{ path: '/userId' }] });
    const batch = await h.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/json' },
      // A surrogate pair (an emoji) is fine; a lone low surrogate in an item id is not.
      payload:
        '[{"userId":"\\ud83d\\ude00","itemId":"i1","type":"click"},{"userId":"u","itemId":"\\udc00x","type":"click"}]',
    });
    expect(batch.statusCode).toBe(202);
    expect(batch.json()).toMatchObject({
      accepted: 1,
      rejected: 1,
      errors: [{ index: 1, code: 'EVENT_INVALID' }],
    });
    expect(await logged(eventLog)).toBe(1);
    // The same rule on the Kafka path: the trainer's codec dead-letters it.
    const codec = createEventCodec({ types: defaultConfig().events.types, maxBytes: 16_384 });
    const decoded = codec.decode(Buffer.from('{"userId":"\\ud800","itemId":"i1","type":"click"}'));
    expect(decoded.ok ? 'ok' : decoded.error.code).toBe('EVENT_INVALID');
  });

  it('accepts a DELETE that carries the JSON content type and no body', async () => {
    const { h } = await harness();
    await h.app.inject({ method: 'PUT', url: '/v1/items/a', payload: { categories: ['books'] } });
    const res = await h.app.inject({
      method: 'DELETE',
      url: '/v1/items/a',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
  });
});

describe('context and query keys', () => {
  it('refuses documented context fields out of range, in events and in queries; other fields pass as they are', async () => {
    const { h } = await harness();
    const event = (context: object) =>
      h.app.inject({
        method: 'POST',
        url: '/v1/events',
        payload: { userId: 'u', itemId: 'i', type: 'click', context },
      });
    const bad = await event({ hour: 99 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'EVENT_INVALID', issues: [{ path: '/context/hour' }] });
    expect((await event({ dow: 7 })).statusCode).toBe(400);
    expect(
      (await event({ hour: 21, dow: 6, device: 'mobile', page: 'home', premium: true })).statusCode,
    ).toBe(202);
    for (const url of [
      '/v1/users/u/recommendations?hour=25',
      '/v1/users/u/recommendations?hour=evening',
      '/v1/popular?hour=-1',
    ]) {
      const res = await h.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    expect(
      (await h.app.inject({ method: 'GET', url: '/v1/users/u/recommendations?hour=23&locale=fr' }))
        .statusCode,
    ).toBe(200);
  });

  it('takes a repeated exclude key as a list', async () => {
    const { h } = await harness();
    await seedModel(h.store, {
      items: { a: row([1, 0, 0, 0], 0, 50), b: row([0.9, 0, 0, 0], 0, 50), c: row([0.8, 0, 0, 0], 0, 50) },
      users: { u: row([1, 0, 0, 0], 0, 100) },
    });
    await h.engine.refreshOnce();
    const ids = async (query: string) => {
      const res = await h.app.inject({ method: 'GET', url: `/v1/users/u/recommendations?k=3&${query}` });
      expect(res.statusCode, res.body).toBe(200);
      return (res.json() as { items: { itemId: string }[] }).items.map((i) => i.itemId);
    };
    expect(await ids('exclude=a&exclude=b')).toEqual(['c']);
    expect(await ids('exclude=a,b')).toEqual(['c']);
    expect(await ids('exclude=a&exclude=b,c')).toEqual([]);
  });

  it('documents the context query parameters and the configured event types in OpenAPI', async () => {
    const { h } = await harness();
    const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { parameters?: { name: string }[]; requestBody?: unknown }>>;
    };
    const params = doc.paths['/v1/users/{userId}/recommendations']?.['get']?.parameters?.map((p) => p.name);
    expect(params).toEqual(expect.arrayContaining(['hour', 'dow', 'device', 'exclude']));
    expect(doc.paths['/v1/popular']?.['get']?.parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['hour', 'device']),
    );
    const body = JSON.stringify(doc.paths['/v1/events']?.['post']?.requestBody);
    expect(body).toContain('"enum":["click","dislike","impression","like","purchase","rating","view"]');
  });
});

describe('every error in the catalogue shape', () => {
  it('answers 405 with every method of the path in Allow, for unknown methods too', async () => {
    const { h } = await harness();
    for (const method of ['OPTIONS', 'PATCH', 'QUERY']) {
      const res = await h.app.inject({ method: method as never, url: '/v1/items/0' });
      expect(res.statusCode, method).toBe(405);
      expect(res.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
      expect(res.headers['allow']).toBe('DELETE, GET, HEAD, PUT');
    }
    const unknown = await h.app.inject({ method: 'QUERY' as never, url: '/v1/nothing' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
  });

  it('answers a 20 kB query string with 431 HEADERS_TOO_LARGE in the catalogue shape', async () => {
    const { h } = await harness();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = h.app.server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/v1/popular?x=${'a'.repeat(20_000)}`);
    expect(res.status).toBe(431);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ code: 'HEADERS_TOO_LARGE' });
    expect(typeof body['message']).toBe('string');
    expect(typeof body['requestId']).toBe('string');
  });
});
