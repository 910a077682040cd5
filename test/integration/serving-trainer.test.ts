import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServing, type RunningServing } from '../../services/serving/main.ts';
import { loadConfig } from '../../shared/config/index.ts';
import { createLogger, createMetricsRegistry } from '../../shared/observability/index.ts';
import { TrainerProcess } from '../support/trainer-process.ts';
import { trainerRun } from '../support/trainer-run.ts';
import { waitUntil } from '../support/wait.ts';

/**
 * The whole loop over real Kafka, Redis and HTTP: events posted to serving's /v1/events reach the
 * trainer through Kafka, the trainer writes Redis, serving follows the change stream, and the
 * user's recommendations change: an item they just clicked leaves their list (seen-filtering),
 * and a category they click rises.
 */
describe('serving with the trainer', () => {
  let run: Awaited<ReturnType<typeof trainerRun>>;
  let trainer: TrainerProcess;
  let serving: RunningServing;

  const books = Array.from({ length: 12 }, (_, i) => `book-${i}`);
  const songs = Array.from({ length: 12 }, (_, i) => `song-${i}`);

  async function call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${serving.url}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return {
      status: res.status,
      json: res.status === 204 ? {} : ((await res.json()) as Record<string, unknown>),
    };
  }

  async function top(userId: string, k = 6): Promise<string[]> {
    const { status, json } = await call('GET', `/v1/users/${userId}/recommendations?k=${k}`);
    expect(status).toBe(200);
    return (json['items'] as { itemId: string }[]).map((i) => i.itemId);
  }

  async function post(events: { userId: string; itemId: string; type: string }[]): Promise<void> {
    const { status, json } = await call('POST', '/v1/events', events);
    expect(status).toBe(202);
    expect(json['accepted']).toBe(events.length);
  }

  async function applied(): Promise<number> {
    return trainer.metric('recsys_trainer_events_total', { outcome: 'applied' });
  }

  beforeAll(async () => {
    run = await trainerRun({ partitions: 2, config: { trainer: { models: ['mf'], flushMs: 50 } } });
    trainer = await TrainerProcess.start(run.services, { configFile: run.configFile });
    const config = loadConfig({
      env: {
        KAFKA_BROKERS: run.services.kafkaBrokers,
        REDIS_URL: run.services.redisUrl,
        RECSYS_CONFIG: run.configFile,
      },
      overrides: { serving: { port: 0, refreshMs: 100 } },
    });
    const logger = createLogger({ level: 'warn' });
    serving = await startServing({
      config,
      eventLog: run.log,
      store: run.store,
      registry: createMetricsRegistry({ service: 'serving', defaultMetrics: false }),
      logger,
    });
    for (const id of books)
      expect((await call('PUT', `/v1/items/${id}`, { categories: ['books'], tags: ['books'] })).status).toBe(
        200,
      );
    for (const id of songs)
      expect((await call('PUT', `/v1/items/${id}`, { categories: ['music'], tags: ['music'] })).status).toBe(
        200,
      );
    // Background traffic: readers click books, listeners click songs.
    const background: { userId: string; itemId: string; type: string }[] = [];
    for (let u = 0; u < 40; u++) {
      const pool = u % 2 === 0 ? books : songs;
      for (let j = 0; j < 8; j++)
        background.push({
          userId: `bg${u}`,
          itemId: pool[(u * 3 + j * 5) % pool.length] as string,
          type: 'click',
        });
    }
    await post(background);
    await waitUntil(
      async () => (await applied()) >= background.length,
      'the background events to be trained',
      60_000,
      200,
    );
  }, 180_000);

  afterAll(async () => {
    await serving?.stop();
    trainer?.kill('SIGTERM');
    await trainer?.exited();
    await run?.cleanup();
  }, 60_000);

  it('drops an item from the list once the user clicked it (seen-filtering)', async () => {
    const first = (await applied()) + 1;
    await post([{ userId: 'alice', itemId: 'book-1', type: 'click' }]);
    await waitUntil(async () => (await applied()) >= first, "alice's first click to be trained", 30_000, 100);
    // Setup: alice is known now. What proves seen-filtering is below, with an item that was in her
    // list before she clicked it (book-1 may never have been in it).
    await waitUntil(
      async () => !(await top('alice')).includes('book-1'),
      "book-1 to stay out of alice's list",
      15_000,
      100,
    );
    const before = await top('alice');
    const target = before[0] as string;
    expect(target).toBeDefined(); // in her list now; the wait below proves it leaves once clicked
    const done = (await applied()) + 1;
    await post([{ userId: 'alice', itemId: target, type: 'click' }]);
    await waitUntil(async () => (await applied()) >= done, 'the click to be trained', 30_000, 100);
    await waitUntil(
      async () => !(await top('alice', 20)).includes(target),
      `${target} to leave alice's list`,
      15_000,
      100,
    );
  }, 90_000);

  it('raises a category the user clicks', async () => {
    const musicShare = async () => (await top('bob', 6)).filter((id) => id.startsWith('song-')).length;
    // Counted before posting: the trainer may apply the clicks before the next metrics read.
    let expected = (await applied()) + 3;
    await post(books.slice(0, 3).map((itemId) => ({ userId: 'bob', itemId, type: 'click' })));
    await waitUntil(
      async () => (await applied()) >= expected,
      "bob's book clicks to be trained",
      30_000,
      100,
    );
    await waitUntil(async () => (await top('bob')).length > 0, 'bob to get recommendations', 10_000, 100);
    const before = await musicShare();
    expected = (await applied()) + 4;
    await post(songs.slice(0, 4).map((itemId) => ({ userId: 'bob', itemId, type: 'click' })));
    await waitUntil(
      async () => (await applied()) >= expected,
      "bob's song clicks to be trained",
      30_000,
      100,
    );
    await waitUntil(async () => (await musicShare()) > before, "music to rise in bob's list", 15_000, 100);
    expect(await musicShare()).toBeGreaterThanOrEqual(Math.min(6, before + 1));
  }, 90_000);
});
