import { describe, expect, it } from 'vitest';
import { RecsysClient, RecsysClientError } from '../../../shared/client/recsys-client.ts';

type Reply = { status: number; body: unknown; headers?: Record<string, string> } | Error;

/** A scripted fetch: answers in order, records the requests. */
function scripted(replies: Reply[]) {
  const calls: { url: string; method: string; headers: Record<string, string>; body: unknown }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({
      url,
      method: init.method ?? 'GET',
      headers: init.headers as Record<string, string>,
      body: init.body === undefined ? undefined : JSON.parse(init.body as string),
    });
    const reply = replies.shift();
    if (reply === undefined) throw new Error('no more scripted replies');
    if (reply instanceof Error) throw reply;
    return new Response(JSON.stringify(reply.body), { status: reply.status, headers: reply.headers ?? {} });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}

const ok = { items: [], modelVersion: 'v', requestId: 'r' };

describe('RecsysClient', () => {
  it('retries 503 and 429 honouring Retry-After, sends the API key, then returns the answer', async () => {
    const { fetch, calls } = scripted([
      {
        status: 503,
        body: { code: 'STORE_UNAVAILABLE', message: 'down' },
        headers: { 'retry-after': '0.01' },
      },
      { status: 429, body: { code: 'RATE_LIMITED', message: 'slow down' } },
      { status: 200, body: ok },
    ]);
    const client = new RecsysClient({ baseUrl: 'http://api/', apiKey: 'k'.repeat(16), fetch, backoffMs: 1 });
    expect(await client.popular(3, { device: 'mobile' })).toEqual(ok);
    expect(calls).toHaveLength(3);
    expect(calls[0]?.url).toBe('http://api/v1/popular?k=3&device=mobile');
    expect(calls[0]?.headers['x-api-key']).toBe('k'.repeat(16));
  });

  it('gives up after `retries` and throws the last error with its code', async () => {
    const down = { status: 503, body: { code: 'STORE_UNAVAILABLE', message: 'down' } };
    const { fetch, calls } = scripted([down, down, down]);
    const client = new RecsysClient({ baseUrl: 'http://api', fetch, retries: 2, backoffMs: 1 });
    await expect(client.similar('a')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 });
    expect(calls).toHaveLength(3);
  });

  it('never retries a client error, and never re-sends events after a network error', async () => {
    const bad = scripted([{ status: 400, body: { code: 'VALIDATION_FAILED', message: 'no', issues: [] } }]);
    await expect(
      new RecsysClient({ baseUrl: 'http://api', fetch: bad.fetch }).recommend({ userId: 'u' }),
    ).rejects.toBeInstanceOf(RecsysClientError);
    expect(bad.calls).toHaveLength(1);
    const lost = scripted([new TypeError('socket hang up')]);
    const client = new RecsysClient({ baseUrl: 'http://api', fetch: lost.fetch, backoffMs: 1 });
    await expect(client.sendEvents([{ userId: 'u', itemId: 'i', type: 'click' }])).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
      status: 0,
    });
    expect(lost.calls).toHaveLength(1);
  });

  it('splits large event lists into API-sized batches and re-bases error indexes', async () => {
    const { fetch, calls } = scripted([
      { status: 202, body: { accepted: 500, rejected: 0, errors: [], requestId: 'a' } },
      {
        status: 202,
        body: {
          accepted: 99,
          rejected: 1,
          errors: [{ index: 3, code: 'VALIDATION_FAILED', message: 'm' }],
          requestId: 'b',
        },
      },
    ]);
    const client = new RecsysClient({ baseUrl: 'http://api', fetch });
    const events = Array.from({ length: 600 }, (_, i) => ({ userId: `u${i}`, itemId: 'i', type: 'click' }));
    const result = await client.sendEvents(events);
    expect(calls.map((c) => (c.body as unknown[]).length)).toEqual([500, 100]);
    expect(result).toMatchObject({ accepted: 599, rejected: 1, errors: [{ index: 503 }], requestId: 'b' });
  });

  it('batches published events by size and by linger time, in order', async () => {
    const accepted = (n: number) => ({
      status: 202,
      body: { accepted: n, rejected: 0, errors: [], requestId: 'r' },
    });
    const { fetch, calls } = scripted([accepted(3), accepted(2)]);
    const publisher = new RecsysClient({ baseUrl: 'http://api', fetch }).publisher({
      batchSize: 3,
      lingerMs: 5,
    });
    for (let i = 0; i < 5; i++) publisher.publish({ userId: `u${i}`, itemId: 'i', type: 'click' });
    await new Promise((resolve) => setTimeout(resolve, 30)); // the last two go after lingerMs
    expect(calls.map((c) => (c.body as { userId: string }[]).map((e) => e.userId))).toEqual([
      ['u0', 'u1', 'u2'],
      ['u3', 'u4'],
    ]);
    await publisher.close();
    expect(publisher.accepted).toBe(5);
  });
});
