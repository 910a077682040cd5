import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecsysClient, RecsysClientError } from '../../shared/client/recsys-client.ts';
import type { InteractionEvent } from '../../shared/schemas/index.ts';
import { StartProcess } from '../support/start-process.ts';
import { waitUntil } from '../support/wait.ts';

/** The typed client against the real serving service (over HTTP, `recsys start` embedded). */
describe('RecsysClient against the serving API', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'recsys-client-'));
  let app: StartProcess;
  let client: RecsysClient;

  beforeAll(async () => {
    app = new StartProcess(dataDir);
    client = new RecsysClient({ baseUrl: await app.demoLearned() });
  }, 180_000);

  afterAll(async () => {
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('queries recommendations, similar and popular items', async () => {
    const recs = await client.recommend({ userId: 'user-0001', k: 7, context: { device: 'mobile' } });
    expect(recs.userId).toBe('user-0001');
    expect(recs.items).toHaveLength(7);
    expect(recs.items.every((i) => ['mf', 'neumf', 'content', 'popular', 'session'].includes(i.source))).toBe(
      true,
    );
    const page2 = await client.recommend({ userId: 'user-0001', k: 7, offset: 7, resultId: recs.resultId });
    expect(page2.items.some((i) => recs.items.some((j) => j.itemId === i.itemId))).toBe(false);
    expect((await client.similar('comedy-001', 5)).items).toHaveLength(5);
    expect((await client.popular(3, { device: 'desktop', hour: 10 })).items).toHaveLength(3);
  });

  it('manages the catalog and reports API errors with their code', async () => {
    const put = await client.putItem('client-item', { title: 'From the client', categories: ['docs'] });
    expect(put).toMatchObject({ itemId: 'client-item', title: 'From the client' });
    expect(await client.getItem('client-item')).toMatchObject({ categories: ['docs'] });
    expect(await client.deleteItem('client-item')).toBe(true);
    expect(await client.getItem('client-item')).toBeUndefined();
    expect(await client.deleteItem('client-item')).toBe(false);
    expect(await client.putUser('client-user', { tags: ['jazz'] })).toMatchObject({ userId: 'client-user' });
    expect(await client.getUser('client-user')).toMatchObject({ tags: ['jazz'] });

    const error = await client.recommend({ userId: 'u', k: 100_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecsysClientError);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', status: 400, retriable: false });
    expect((error as RecsysClientError).issues[0]?.path).toBe('/k');
  });

  it('publishes a stream of events in batches; invalid ones come back, valid ones are learned', async () => {
    const rejected: string[] = [];
    const publisher = client.publisher({
      lingerMs: 10,
      onRejected: (list) => rejected.push(...list.map((r) => `${r.event.itemId}:${r.code}`)),
    });
    // Before: the new user's list (popularity) holds some of the items they are about to view.
    const viewed = Array.from({ length: 9 }, (_, i) => `drama-00${i + 1}`);
    const before = await client.recommend({ userId: 'stream-1', k: 30 });
    expect(before.items.some((i) => viewed.includes(i.itemId))).toBe(true);
    const events: InteractionEvent[] = [];
    for (let i = 0; i < 1_200; i++)
      events.push({ userId: `stream-${i % 40}`, itemId: `drama-00${(i % 9) + 1}`, type: 'view' });
    events[17] = { userId: 'stream-0', itemId: 'x', type: 'teleport' };
    events[900] = { userId: '', itemId: 'y', type: 'click' };
    for (const event of events) publisher.publish(event);
    await publisher.close();
    expect(publisher.accepted).toBe(1_198);
    expect(publisher.rejected).toBe(2);
    expect(rejected.sort()).toEqual(['x:EVENT_INVALID', 'y:EVENT_INVALID']);
    // Learned: a streamed user's viewed items count as seen and leave their list.
    await waitUntil(
      async () => {
        const recs = await client.recommend({ userId: 'stream-1', k: 30 });
        return !recs.items.some((i) => viewed.includes(i.itemId));
      },
      'the streamed events to be learned',
      10_000,
      100,
    );
  });
});
