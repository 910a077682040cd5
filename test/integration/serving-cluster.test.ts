import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisModelStore, connectRedis } from '../../shared/adapters/redis/index.ts';
import { freePorts, isAlive } from '../../scripts/local-services.ts';
import { ServingProcess } from '../support/serving-process.ts';
import { row } from '../support/serving.ts';
import { waitUntil } from '../support/wait.ts';

/**
 * `recsys serving --workers 2` against real Redis and Kafka: two processes answer on one port,
 * /metrics sums both, a crashed worker is replaced, and SIGTERM stops the primary and both workers
 * with exit code 0.
 */

/** A fresh connection per request, so the primary's round-robin spreads them over the workers. */
const noKeepAlive = new Agent({ pipelining: 0, keepAliveTimeout: 1, connections: 1 });

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await request(url, { dispatcher: noKeepAlive, headers: { connection: 'close' } });
  return { status: res.statusCode, body: await res.body.text() };
}

/** The value of one series in an exposition text (its name and label text exactly as written). */
function series(text: string, name: string, labels: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels)) return Number(line.split(' ').pop());
  }
  return undefined;
}

/** Two workers with 8-dimensional MF only, on keys and a topic of their own. */
function twoWorkers(redisUrl: string, kafkaBrokers: string, prefix: string): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    KAFKA_BROKERS: kafkaBrokers,
    RECSYS_REDIS_PREFIX: prefix,
    RECSYS_KAFKA_TOPIC: `${prefix}-events`,
    RECSYS_MF_DIM: '8',
    RECSYS_TRAINER_MODELS: 'mf',
    RECSYS_SERVING_WORKERS: '2',
  };
}

/** The V8 heap flags on a process's command line (Linux: /proc). */
function heapFlagsOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    .split('\0')
    .filter((arg) => /^--(max-semi-space-size|initial-old-space-size)=/.test(arg));
}

describe('serving with two workers on one port', () => {
  let serving: ServingProcess;
  const prefix = `cluster-${randomUUID().slice(0, 8)}`;
  const workerPids = (): number[] =>
    serving.lines
      .filter((line) => line.includes('"serving worker listening"'))
      .map((line) => (JSON.parse(line) as { pid: number }).pid);

  beforeAll(async () => {
    const { redisUrl, kafkaBrokers } = inject('services');
    const client = await connectRedis({ url: redisUrl, commandTimeoutMs: 5_000, connectTimeoutMs: 5_000 });
    const store = new RedisModelStore(client, { keyPrefix: prefix });
    const items = Array.from({ length: 200 }, (_, i) => `i${i}`);
    const vector = (seed: number) => Array.from({ length: 8 }, (_, d) => Math.sin(seed * 3.3 + d));
    await store.commit({
      puts: [
        { table: 'mf:item', rows: items.map((id, i) => ({ id, value: row(vector(i), 0, 10) })) },
        { table: 'mf:user', rows: [{ id: 'u1', value: row(vector(999), 0, 20) }] },
      ],
      popularity: items.slice(0, 50).map((itemId, i) => ({ segment: '*', itemId, by: 50 - i })),
      newItems: { registry: 'mf', ids: items },
    });
    await store.close();
    serving = await ServingProcess.start({
      ...twoWorkers(redisUrl, kafkaBrokers, prefix),
      RECSYS_SERVING_HEAP_SEMI_SPACE_MB: '8',
      RECSYS_SERVING_HEAP_OLD_SPACE_MB: '64',
    });
  }, 120_000);

  afterAll(async () => {
    if (serving === undefined) return;
    const pids = workerPids();
    expect(await serving.stop()).toBe(0);
    // The primary waited for its workers: none outlives it.
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  }, 60_000);

  it('answers from both workers, sums their metrics, and replaces a crashed worker', async () => {
    const url = serving.url as string;
    expect(workerPids()).toHaveLength(2);
    // Each worker runs with the configured V8 heap flags (docs/serving.md, "Garbage collection").
    for (const pid of workerPids())
      expect(heapFlagsOf(pid)).toEqual(['--max-semi-space-size=8', '--initial-old-space-size=64']);
    await waitUntil(
      async () => (await get(`${url}/readyz`)).status === 200,
      'both workers ready',
      30_000,
      100,
    );

    for (let i = 0; i < 40; i++) {
      const res = await get(`${url}/v1/users/u1/recommendations?k=5`);
      expect(res.status).toBe(200);
      expect((JSON.parse(res.body) as { items: unknown[] }).items).toHaveLength(5);
    }
    const route = 'route="/v1/users/:userId/recommendations",status="200"';
    const before = (await get(`${url}/metrics`)).body;
    // Counters are summed over the workers; each worker alone saw only part of the 40.
    expect(series(before, 'recsys_serving_responses_total', route)).toBe(40);
    expect(series(before, 'recsys_serving_workers', 'service="serving"')).toBe(2);
    // A gauge of per-worker state is not summed: each worker holds the 200 items.
    expect(series(before, 'recsys_serving_index_items', 'service="serving"')).toBe(200);

    // Kill one worker: its share of the counts leaves the sum, which shows both were answering.
    const [victim, survivor] = workerPids() as [number, number];
    process.kill(victim, 'SIGKILL');
    await waitUntil(() => !isAlive(victim), 'the killed worker to exit', 10_000, 50);
    await waitUntil(() => workerPids().length === 3, 'a replacement worker', 30_000, 100);
    const after = (await get(`${url}/metrics`)).body;
    const left = series(after, 'recsys_serving_responses_total', route) ?? 0;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(40);
    expect(series(after, 'recsys_serving_worker_restarts_total', 'service="serving"')).toBe(1);
    expect(series(after, 'recsys_serving_workers', 'service="serving"')).toBe(2);
    expect(isAlive(survivor)).toBe(true);
    // The replacement is forked with the same flags.
    expect(heapFlagsOf(workerPids()[2] as number)).toEqual([
      '--max-semi-space-size=8',
      '--initial-old-space-size=64',
    ]);
    expect(serving.lines.some((line) => line.includes('a serving worker exited; restarting it'))).toBe(true);

    for (let i = 0; i < 10; i++)
      expect((await get(`${url}/v1/users/u1/recommendations?k=5`)).status).toBe(200);
  }, 90_000);
});

describe('one serving process', () => {
  it('replaces itself in place with its heap flags (same pid), or runs as started when they are off', async () => {
    const { redisUrl, kafkaBrokers } = inject('services');
    const env = {
      REDIS_URL: redisUrl,
      KAFKA_BROKERS: kafkaBrokers,
      RECSYS_REDIS_PREFIX: `single-${randomUUID().slice(0, 8)}`,
      RECSYS_SERVING_HEAP_OLD_SPACE_MB: '96',
    };
    const serving = await ServingProcess.start(env);
    try {
      const pid = serving.child.pid as number;
      // The process the test spawned (no flags) is the one listening, now with the flags.
      expect(heapFlagsOf(pid)).toEqual(['--max-semi-space-size=16', '--initial-old-space-size=96']);
      const listening = serving.lines.find((line) => line.includes('"serving listening"')) as string;
      expect((JSON.parse(listening) as { heapFlags: string[] }).heapFlags).toEqual([
        '--max-semi-space-size=16',
        '--initial-old-space-size=96',
      ]);
      expect((await get(`${serving.url as string}/healthz`)).status).toBe(200);
    } finally {
      expect(await serving.stop()).toBe(0);
    }

    const off = await ServingProcess.start({
      ...env,
      RECSYS_SERVING_HEAP_SEMI_SPACE_MB: '0',
      RECSYS_SERVING_HEAP_OLD_SPACE_MB: '0',
    });
    try {
      expect(heapFlagsOf(off.child.pid as number)).toEqual([]);
      expect((await get(`${off.url as string}/healthz`)).status).toBe(200);
    } finally {
      expect(await off.stop()).toBe(0);
    }
  }, 60_000);
});

describe('serving workers that cannot start', () => {
  it("stop the primary with the worker's exit code (3: Redis unreachable) instead of restarting forever", async () => {
    const { kafkaBrokers } = inject('services');
    // Nothing listens on port 1: each worker fails to connect to Redis at start-up.
    const failed = ServingProcess.start({
      REDIS_URL: 'redis://127.0.0.1:1',
      KAFKA_BROKERS: kafkaBrokers,
      RECSYS_SERVING_WORKERS: '2',
    });
    await expect(failed).rejects.toThrow(/serving exited with 3/);
  }, 60_000);
});

describe('serving workers with a separate metrics port', () => {
  it("serve the summed metrics on the primary's metrics port and none on the API port", async () => {
    const { redisUrl, kafkaBrokers } = inject('services');
    const [metricsPort] = (await freePorts(1)) as [number];
    const serving = await ServingProcess.start({
      REDIS_URL: redisUrl,
      KAFKA_BROKERS: kafkaBrokers,
      RECSYS_REDIS_PREFIX: `cluster-metrics-${randomUUID().slice(0, 8)}`,
      RECSYS_SERVING_WORKERS: '2',
      RECSYS_SERVING_METRICS_PORT: String(metricsPort),
    });
    try {
      const url = serving.url as string;
      for (let i = 0; i < 6; i++) expect((await get(`${url}/healthz`)).status).toBe(200);
      expect((await get(`${url}/metrics`)).status).toBe(404);
      const text = (await get(`http://127.0.0.1:${metricsPort}/metrics`)).body;
      expect(series(text, 'recsys_serving_workers', 'service="serving"')).toBe(2);
      expect(series(text, 'recsys_serving_responses_total', 'route="/healthz",status="200"')).toBe(6);
    } finally {
      expect(await serving.stop()).toBe(0);
    }
  }, 60_000);
});

describe('serving workers sharing one HNSW build (serving.annShareDir)', () => {
  it('builds once for all workers, and a restarted builder adopts the build instead of building again', async () => {
    const { redisUrl, kafkaBrokers } = inject('services');
    const prefix = `cluster-ann-${randomUUID().slice(0, 8)}`;
    const client = await connectRedis({ url: redisUrl, commandTimeoutMs: 5_000, connectTimeoutMs: 5_000 });
    const store = new RedisModelStore(client, { keyPrefix: prefix });
    const items = Array.from({ length: 1_500 }, (_, i) => `i${i}`);
    const vector = (seed: number) => Array.from({ length: 8 }, (_, d) => Math.sin(seed * 1.7 + d * 0.9));
    await store.commit({
      puts: [
        { table: 'mf:item', rows: items.map((id, i) => ({ id, value: row(vector(i), 0, 10) })) },
        { table: 'mf:user', rows: [{ id: 'u1', value: row(vector(4_242), 0, 20) }] },
      ],
      newItems: { registry: 'mf', ids: items },
    });
    await store.close();
    const share = mkdtempSync(join(tmpdir(), 'recsys-cluster-ann-'));
    const serving = await ServingProcess.start({
      ...twoWorkers(redisUrl, kafkaBrokers, prefix),
      RECSYS_SERVING_ANN_THRESHOLD: '1000',
      RECSYS_SERVING_ANN_SHARE_DIR: share,
    });
    const builds = () => readdirSync(share).filter((name) => name.startsWith('build-'));
    try {
      const url = serving.url as string;
      const metric = async (name: string) =>
        series((await get(`${url}/metrics`)).body, name, 'service="serving"');
      // The gauge's cluster value is the least of the workers': 1 once both search the index.
      await waitUntil(
        async () => (await metric('recsys_serving_ann_active')) === 1,
        'both workers on the HNSW index',
        60_000,
        200,
      );
      expect(await metric('recsys_serving_ann_builds_total')).toBe(1);
      expect(builds()).toHaveLength(1);
      for (let i = 0; i < 10; i++) {
        const res = await get(`${url}/v1/users/u1/recommendations?k=5`);
        expect(res.status).toBe(200);
        expect((JSON.parse(res.body) as { items: unknown[] }).items).toHaveLength(5);
      }

      // Kill the builder: its replacement maps the published build; nobody builds again.
      const listening = serving.lines
        .filter((line) => line.includes('"serving worker listening"'))
        .map((line) => JSON.parse(line) as { pid: number; annBuilder: boolean });
      const builder = listening.find((w) => w.annBuilder) as { pid: number };
      expect(listening.filter((w) => w.annBuilder)).toHaveLength(1);
      process.kill(builder.pid, 'SIGKILL');
      await waitUntil(
        () => serving.lines.filter((line) => line.includes('"serving worker listening"')).length === 3,
        'a replacement worker',
        30_000,
        100,
      );
      await waitUntil(
        async () => (await metric('recsys_serving_ann_active')) === 1,
        'the replacement on the shared index',
        60_000,
        200,
      );
      // Adopted twice: by the other worker at the start, and by the replacement now.
      expect(serving.lines.filter((line) => line.includes('shared ANN index adopted'))).toHaveLength(2);
      expect(await metric('recsys_serving_ann_builds_total')).toBe(0);
      expect(builds()).toHaveLength(1);
    } finally {
      expect(await serving.stop()).toBe(0);
      rmSync(share, { recursive: true, force: true });
    }
  }, 120_000);
});
