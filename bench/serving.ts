import type { ModelName } from '../shared/model/registry.ts';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { MemoryEventLog, MemoryModelStore } from '../shared/adapters/memory/index.ts';
import { KafkaEventLog } from '../shared/adapters/kafka/index.ts';
import { RedisModelStore, connectRedis } from '../shared/adapters/redis/index.ts';
import {
  loadConfig,
  neumfConfigFrom,
  type Config,
  type DeepPartial,
  type RecsysConfig,
} from '../shared/config/index.ts';
import { DENSE_CHUNK, DENSE_COUNTER, DENSE_TABLE, chunkIds } from '../shared/model/neumf/dense-layout.ts';
import { NeuMF } from '../shared/model/neumf/neumf.ts';
import { Random } from '../shared/model/random.ts';
import { selectTopK } from '../shared/model/topk.ts';
import { useBackend } from '../shared/model/tf-backend.ts';
import { createMetricsRegistry, silentLogger } from '../shared/observability/index.ts';
import type { EventLog, ModelStore, RowValue } from '../shared/ports/index.ts';
import { startServing, type RunningServing } from '../services/serving/main.ts';
import type { LoadOptions, LoadResult } from './load.ts';
import type { BenchResult } from './report.ts';

export interface ServingBenchOptions {
  /** Real Redis and Kafka when given (what the targets are about); else the embedded adapters. */
  readonly redisUrl?: string;
  readonly kafkaBrokers?: string;
  /** 1 = the full benchmark (20 s per load, 1,000,000 items for the ANN run). */
  readonly scale: number;
  /** Run only these scenarios (default: all). */
  readonly only?: readonly ServingScenario[];
  /**
   * Run serving as `recsys serving --workers N` child processes (node:cluster) for the NeuMF and MF
   * scenarios, instead of inside the benchmark process. Needs Redis and Kafka.
   */
  readonly workers?: number;
  readonly onProgress?: (line: string) => void;
}

export const SERVING_SCENARIOS = ['neumf', 'mf', 'ingest', 'ann'] as const;
export type ServingScenario = (typeof SERVING_SCENARIOS)[number];

export const SERVING_TARGETS = {
  neumfRequestsPerSecond: 1_000,
  neumfP99Ms: 20,
  mfRequestsPerSecond: 3_000,
  mfP99Ms: 10,
  annRequestsPerSecond: 500,
  annP99Ms: 25,
  annRecall: 0.95,
  ingestEventsPerSecond: 20_000,
} as const;

const ITEMS = 10_000;
const USERS = 100_000;
const DIM = 64;
const ANN_ITEMS = 1_000_000;
const root = resolve(import.meta.dirname, '..');

interface World {
  readonly config: RecsysConfig;
  /** The configuration overrides of this world, as a child serving process's config file takes them. */
  readonly overrides: DeepPartial<Config>;
  readonly store: ModelStore;
  readonly syncStore: ModelStore;
  readonly eventLog: EventLog;
  cleanup(): Promise<void>;
}

async function openWorld(options: ServingBenchOptions, models: ModelName[]): Promise<World> {
  const id = randomUUID().slice(0, 8);
  const prefix = `bench-serving-${id}`;
  const overrides: DeepPartial<Config> = {
    ...(options.redisUrl === undefined ? {} : { redis: { url: options.redisUrl, keyPrefix: prefix } }),
    ...(options.kafkaBrokers === undefined
      ? {}
      : { kafka: { brokers: options.kafkaBrokers.split(','), topic: `${prefix}-events`, partitions: 4 } }),
    serving: { port: 0, annThreads: 2, userEventsPerMinute: 100_000 },
    trainer: { models },
    model: { mf: { dim: DIM } },
    log: { level: 'warn' },
  };
  const config = loadConfig({ env: {}, overrides });
  if (options.redisUrl === undefined) {
    const store = new MemoryModelStore();
    return {
      config,
      overrides,
      store,
      syncStore: store,
      eventLog: new MemoryEventLog({ partitions: 4 }),
      cleanup: async () => undefined,
    };
  }
  const client = await connectRedis({
    url: options.redisUrl,
    commandTimeoutMs: Math.max(1_000, 4 * config.serving.storeTimeoutMs),
    connectTimeoutMs: 5_000,
    autoPipelining: true,
  });
  const syncClient = await connectRedis({
    url: options.redisUrl,
    commandTimeoutMs: 30_000,
    connectTimeoutMs: 5_000,
  });
  const store = new RedisModelStore(client, { keyPrefix: prefix });
  const syncStore = new RedisModelStore(syncClient, { keyPrefix: prefix });
  const eventLog: EventLog =
    options.kafkaBrokers === undefined
      ? new MemoryEventLog({ partitions: 4 })
      : new KafkaEventLog({ ...config.kafka, logger: silentLogger() });
  await eventLog.ensureTopics();
  return {
    config,
    overrides,
    store,
    syncStore,
    eventLog,
    async cleanup() {
      let cursor = '0';
      do {
        const [next, keys] = await syncClient.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 10_000);
        cursor = next;
        if (keys.length > 0) await syncClient.unlink(...keys);
      } while (cursor !== '0');
      await eventLog.close();
      await store.close();
      await syncStore.close();
    },
  };
}

/**
 * MF rows shaped like trained embeddings rather than iid noise: component k has variance
 * proportional to (k + 10)^-2.85, a fit of the singular-value spectrum of the item rows MF learns
 * on MovieLens 100K at dimension 64 (there 5 components hold half the energy and 13 hold 80%;
 * iid Gaussian vectors need 27 and 48), and norms average about 1.5 as the trained rows' do.
 * Exact search does not care; an ANN index does, and the product searches trained rows.
 */
function embedding(random: Random, dim: number): number[] {
  const shares = Array.from({ length: dim }, (_, k) => (k + 10) ** -2.85);
  const total = shares.reduce((a, b) => a + b, 0);
  return shares.map((share) => random.normal() * Math.sqrt((2.25 * share) / total));
}

function vector(random: Random, dim: number, scale = 0.3): number[] {
  return Array.from({ length: dim }, () => random.normal() * scale);
}

function rowOf(values: number[], count: number): RowValue {
  return { vector: Float32Array.from(values), bias: 0, count, updatedAt: Date.now() };
}

/** Writes what trainers would have: rows, registry, catalog, histories, popularity and (optionally) NeuMF. */
async function seed(
  world: World,
  items: number,
  users: number,
  neumf: boolean,
  progress: (line: string) => void,
): Promise<void> {
  const random = new Random(7);
  const { syncStore: store, config } = world;
  const itemIds = Array.from({ length: items }, (_, i) => `i${i}`);
  const chunk = 2_000;
  for (let start = 0; start < items; start += chunk) {
    const ids = itemIds.slice(start, start + chunk);
    await store.putItems(
      ids.map((id, k) => ({
        id,
        record: {
          itemId: id,
          categories: [`c${(start + k) % 20}`],
          tags: [`t${(start + k) % 200}`, `t${(start * 7 + k) % 211}`],
        },
      })),
    );
    await store.commit({
      puts: [
        {
          table: 'mf:item',
          rows: ids.map((id) => ({ id, value: rowOf(embedding(random, DIM), 1 + random.int(500)) })),
        },
      ],
      newItems: { registry: 'mf', ids },
    });
    if (start % 100_000 === 0)
      progress(`seeded ${start.toLocaleString('en-US')} of ${items.toLocaleString('en-US')} items`);
  }
  for (let start = 0; start < users; start += chunk) {
    const ids = Array.from({ length: Math.min(chunk, users - start) }, (_, k) => `u${start + k}`);
    await store.commit({
      puts: [
        {
          table: 'mf:user',
          rows: ids.map((id) => ({ id, value: rowOf(embedding(random, DIM), 5 + random.int(200)) })),
        },
      ],
      history: ids.map((userId) => ({
        userId,
        items: Array.from({ length: 20 }, () => itemIds[random.int(items)] as string),
      })),
    });
  }
  const segments = [
    '*',
    ...['mobile', 'desktop', 'tv', 'tablet'].flatMap((d) =>
      ['night', 'morning', 'afternoon', 'evening'].map((h) => `device=${d}|hour=${h}`),
    ),
  ];
  await store.commit({
    popularity: segments.flatMap((segment) =>
      Array.from({ length: 500 }, () => ({
        segment,
        itemId: itemIds[random.int(items)] as string,
        by: random.next() * 100,
      })),
    ),
  });
  if (!neumf) return;
  const n = neumfConfigFrom(config);
  await useBackend('cpu');
  const model = new NeuMF(n);
  const flat = Float32Array.from(model.tower.variables.flatMap((v) => Array.from(v.dataSync())));
  model.dispose();
  const gmf = n.gmfDim ?? 32;
  const mlp = n.mlpDim ?? 32;
  for (let start = 0; start < items; start += chunk) {
    const ids = itemIds.slice(start, start + chunk);
    await store.commit({
      puts: [
        { table: 'ncf:gmf:item', rows: ids.map((id) => ({ id, value: rowOf(vector(random, gmf), 10) })) },
        { table: 'ncf:mlp:item', rows: ids.map((id) => ({ id, value: rowOf(vector(random, mlp), 10) })) },
      ],
      newItems: { registry: 'neumf', ids },
    });
  }
  for (let start = 0; start < users; start += chunk) {
    const ids = Array.from({ length: Math.min(chunk, users - start) }, (_, k) => `u${start + k}`);
    await store.commit({
      puts: [
        { table: 'ncf:gmf:user', rows: ids.map((id) => ({ id, value: rowOf(vector(random, gmf), 10) })) },
        { table: 'ncf:mlp:user', rows: ids.map((id) => ({ id, value: rowOf(vector(random, mlp), 10) })) },
      ],
    });
  }
  await store.commit({
    puts: [
      {
        table: DENSE_TABLE,
        rows: chunkIds(flat.length).map((id, c) => ({
          id,
          value: rowOf([...flat.subarray(c * DENSE_CHUNK, (c + 1) * DENSE_CHUNK)], 0),
        })),
      },
    ],
    counters: [{ name: DENSE_COUNTER, field: 'version', by: 1 }],
  });
}

/** Serving under load: in the benchmark process, or `recsys serving --workers N` children. */
interface BenchServing {
  readonly url: string;
  /** Where it runs, for the report. */
  readonly how: string;
  /** CPU seconds serving used so far (all workers). */
  cpuSeconds(): Promise<number>;
  /** Its /metrics text (summed over workers). */
  metricsText(): Promise<string>;
  stop(): Promise<void>;
}

async function start(
  world: World,
  config: RecsysConfig = world.config,
): Promise<BenchServing & { readonly running: RunningServing }> {
  const serving = await startServing({
    config,
    eventLog: world.eventLog,
    store: world.store,
    syncStore: world.syncStore,
    registry: createMetricsRegistry({ service: 'serving', defaultMetrics: false }),
    logger: silentLogger(),
  });
  const deadline = Date.now() + 30 * 60_000;
  while (
    !serving.engine.loaded ||
    (serving.engine.config.trainer.models.includes('neumf') && serving.engine.neumf?.ready !== true)
  ) {
    if (Date.now() > deadline) throw new Error('serving did not load within 30 minutes');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    running: serving,
    url: serving.url,
    how: 'in the benchmark process',
    cpuSeconds: async () => {
      const used = process.cpuUsage();
      return (used.user + used.system) / 1e6;
    },
    metricsText: async () => (await serving.app.inject({ method: 'GET', url: '/metrics' })).body,
    stop: () => serving.stop(),
  };
}

/** The value of an unlabelled-but-`service` series in an exposition text. */
function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(' ').pop());
}

/**
 * `recsys serving --workers N` as a child process on the world's Redis and Kafka, ready once every
 * worker holds `items` items (and, with `annShareDir`, searches the shared HNSW build).
 */
async function startWorkers(
  world: World,
  workers: number,
  { items = ITEMS, annShareDir }: { items?: number; annShareDir?: string } = {},
): Promise<BenchServing> {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(resolve(tmpdir(), 'recsys-bench-'));
  const file = resolve(dir, 'config.json');
  const overrides = annShareDir === undefined ? world.overrides : servingOverrides(world, { annShareDir });
  writeFileSync(file, JSON.stringify(overrides));
  const child = spawn(
    process.execPath,
    [resolve(root, 'bin/recsys.mjs'), 'serving', '--workers', String(workers), '--port', '0'],
    {
      env: { ...process.env, RECSYS_CONFIG: file, LOG_LEVEL: 'info', LOG_PRETTY: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const tail: string[] = [];
  let url: string | undefined;
  const { createInterface } = await import('node:readline');
  for (const stream of [child.stdout, child.stderr])
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      if (url === undefined && line.includes('"serving listening"'))
        url = (JSON.parse(line) as { url: string }).url;
    });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const metricsText = async () => (await fetch(`${url}/metrics`)).text();
  const deadline = Date.now() + 30 * 60_000;
  const neumf = world.config.trainer.models.includes('neumf');
  // Every worker has loaded its index (and the NeuMF tower): the gauges aggregate to the laggard.
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`serving exited with ${child.exitCode}:\n${tail.join('\n')}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error('serving did not load within 30 minutes');
    }
    if (url !== undefined) {
      const text = await metricsText().catch(() => '');
      const loaded = metricValue(text, 'recsys_serving_index_items') >= items;
      const tower = !neumf || metricValue(text, 'recsys_serving_neumf_tower_version') > 0;
      const ann = annShareDir === undefined || metricValue(text, 'recsys_serving_ann_active') === 1;
      if (loaded && tower && ann && metricValue(text, 'recsys_serving_workers') === workers) break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url: url as string,
    how: `${workers} worker processes (recsys serving --workers ${workers})`,
    cpuSeconds: async () => metricValue(await metricsText(), 'recsys_process_cpu_seconds_total'),
    metricsText,
    stop,
  };
}

/**
 * With RECSYS_BENCH_PROFILE=<folder>, a CPU profile of the serving process during a measured load
 * is written there (open it in Chrome DevTools or any .cpuprofile viewer): warm-up and seeding
 * stay out of it.
 */
async function startProfile(): Promise<{ stop(name: string): Promise<void> } | undefined> {
  const folder = process.env.RECSYS_BENCH_PROFILE;
  if (folder === undefined || folder === '') return undefined;
  const { Session } = await import('node:inspector/promises');
  const { mkdir, writeFile } = await import('node:fs/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(name) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      await mkdir(folder, { recursive: true });
      const file = resolve(folder, `${name}-${Date.now()}.cpuprofile`);
      await writeFile(file, JSON.stringify(profile));
      process.stderr.write(`bench: CPU profile written to ${file}\n`);
    },
  };
}

/** Runs the load generator in its own process. */
function load(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [resolve(root, 'bench/load.ts'), JSON.stringify(options)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the load generator exited with ${code}`));
      else resolvePromise(JSON.parse(out.trim().split('\n').pop() ?? '{}') as LoadResult);
    });
  });
}

async function fallbacks(serving: BenchServing): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await serving.metricsText()).split('\n')) {
    const m = /^recsys_serving_fallback_total\{reason="([a-z_]+)"[^}]*\} (\d+)/.exec(line);
    if (m !== null) out[m[1] as string] = Number(m[2]);
  }
  return out;
}

/** Cumulative counts of the recommendation route's server-side latency histogram, by bucket bound. */
function serverBuckets(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m =
      /^recsys_serving_request_seconds_bucket\{[^}]*le="([^"]+)"[^}]*route="\/v1\/users\/:userId\/recommendations"[^}]*\} (\d+)/.exec(
        line,
      ) ??
      /^recsys_serving_request_seconds_bucket\{[^}]*route="\/v1\/users\/:userId\/recommendations"[^}]*le="([^"]+)"[^}]*\} (\d+)/.exec(
        line,
      );
    if (m === null) continue;
    const bound = m[1] === '+Inf' ? Infinity : Number(m[1]);
    out.set(bound, (out.get(bound) ?? 0) + Number(m[2]));
  }
  return out;
}

/**
 * The server's own p99 over a run (from request received to response sent, so without the time a
 * request waits for a busy event loop to read it, nor the load generator's own delays), as the
 * histogram bucket bound it falls under: "<= 5 ms".
 */
function serverP99(before: Map<number, number>, after: Map<number, number>): string {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  if (total <= 0) return 'n/a';
  for (const bound of bounds) {
    const count = (after.get(bound) ?? 0) - (before.get(bound) ?? 0);
    if (count >= 0.99 * total) return bound === Infinity ? '> the largest bucket' : `<= ${bound * 1000} ms`;
  }
  return 'n/a';
}

function describe(result: LoadResult): string {
  const lag =
    result.senderLagP99Ms === undefined ? '' : `, generator send lag p99 ${result.senderLagP99Ms} ms`;
  return `p50 ${result.p50Ms} ms, max ${result.maxMs} ms, ${result.non2xx} non-2xx, ${result.errors} errors${lag}`;
}

/** The warm-up's rate, as fast as autocannon goes: reported without a target. */
function capacityResult(name: string, capacity: LoadResult): BenchResult {
  return {
    name: `${name}: capacity`,
    value: capacity.requestsPerSecond,
    unit: '/s',
    note: `autocannon, 16 connections, unthrottled; ${describe(capacity)}`,
  };
}

/** `recsys bench serving`: the four serving targets of issue 5, each with PASS/FAIL. */
export async function runServingBench(options: ServingBenchOptions): Promise<BenchResult[]> {
  const progress = options.onProgress ?? (() => undefined);
  const seconds = Math.max(5, Math.round(20 * options.scale));
  const results: BenchResult[] = [];
  const where = options.redisUrl === undefined ? 'embedded store' : 'Redis';
  const wanted = (scenario: ServingScenario) => options.only === undefined || options.only.includes(scenario);

  // 1 and 2: 10,000 items, 100,000 users, dimension 64; with NeuMF re-ranking, then MF only.
  for (const models of [['mf', 'neumf'], ['mf']] as ModelName[][]) {
    const neumf = models.includes('neumf');
    if (neumf ? !wanted('neumf') : !wanted('mf') && !wanted('ingest')) continue;
    const world = await openWorld(options, models);
    try {
      progress(
        `seeding ${ITEMS.toLocaleString('en-US')} items and ${USERS.toLocaleString('en-US')} users (${where}${neumf ? ', NeuMF' : ''})`,
      );
      await seed(world, ITEMS, USERS, neumf, progress);
      const serving =
        options.workers === undefined ? await start(world) : await startWorkers(world, options.workers);
      try {
        const rate = neumf ? SERVING_TARGETS.neumfRequestsPerSecond : SERVING_TARGETS.mfRequestsPerSecond;
        const base = {
          url: serving.url,
          kind: 'recommend' as const,
          users: USERS,
          items: ITEMS,
          durationSeconds: seconds,
        };
        if (neumf || wanted('mf')) {
          progress(`${neumf ? 'MF + NeuMF re-ranking' : 'MF only'}: ${rate} requests/s for ${seconds} s`);
          // Warm-up (caches fill), as fast as autocannon can: the capacity, reported without a target.
          const capacity = await load({ ...base, connections: 16, durationSeconds: Math.max(5, seconds) });
          const lag = monitorEventLoopDelay({ resolution: 10 });
          lag.enable();
          const profile = options.workers === undefined ? await startProfile() : undefined;
          const cpu = await serving.cpuSeconds();
          const bucketsBefore = serverBuckets(await serving.metricsText());
          // The target rate on an even schedule (see LoadOptions.paced for why not autocannon's throttle).
          const result = await load({ ...base, connections: 64, rate, paced: true });
          const used = (await serving.cpuSeconds()) - cpu;
          const ownP99 = serverP99(bucketsBefore, serverBuckets(await serving.metricsText()));
          lag.disable();
          await profile?.stop(`serving-${neumf ? 'neumf' : 'mf'}`);
          const served = result.requestsPerSecond * seconds;
          const loop =
            options.workers === undefined
              ? `; event-loop delay p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms, max ${(lag.max / 1e6).toFixed(1)} ms`
              : '';
          progress(
            `serving (${serving.how}) CPU ${((used * 1000) / served).toFixed(3)} ms per request${loop}; server-side p99 ${ownP99}; fallbacks ${JSON.stringify(await fallbacks(serving))}`,
          );
          const name = neumf ? 'recommendations, NeuMF re-ranking 100' : 'recommendations, MF only';
          results.push(
            capacityResult(name, capacity),
            {
              name: `${name}: requests/s`,
              value: result.requestsPerSecond,
              unit: '/s',
              target: { op: '>=', value: rate * 0.98 },
              note: `${where}, ${options.workers === undefined ? 'one process' : `${options.workers} workers`}, offered ${rate}/s on an even schedule`,
            },
            {
              name: `${name}: p99`,
              value: result.p99Ms,
              unit: 'ms',
              target: { op: '<=', value: neumf ? SERVING_TARGETS.neumfP99Ms : SERVING_TARGETS.mfP99Ms },
              note: describe(result),
            },
          );
        }
        if (!neumf && wanted('ingest')) {
          progress(`event ingest: batches of 100 for ${seconds} s`);
          const ingest = await load({ ...base, kind: 'events', connections: 16, batch: 100 });
          results.push({
            name: 'event ingest (POST /v1/events, batches of 100)',
            value: (ingest.requestsPerSecond * 100 * ingest.ok) / Math.max(1, ingest.ok + ingest.non2xx),
            unit: 'events/s',
            target: { op: '>=', value: SERVING_TARGETS.ingestEventsPerSecond },
            note: `${options.kafkaBrokers === undefined ? 'embedded log' : 'Kafka'}; ${describe(ingest)}`,
          });
        }
      } finally {
        await serving.stop();
      }
    } finally {
      await world.cleanup();
    }
  }

  // 3: a large catalog through the HNSW index.
  if (!wanted('ann')) return results;
  const annItems = Math.max(60_000, Math.round(ANN_ITEMS * options.scale));
  const world = await openWorld(options, ['mf']);
  try {
    progress(`seeding ${annItems.toLocaleString('en-US')} items for the ANN run (${where})`);
    await seed(world, annItems, 10_000, false, progress);
    const started = Date.now();
    // With workers, one of them builds the index and the others map it (serving.annShareDir).
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const annShareDir =
      options.workers === undefined ? undefined : mkdtempSync(resolve(tmpdir(), 'recsys-bench-ann-'));
    const inProcess = options.workers === undefined ? await start(world) : undefined;
    const serving =
      inProcess ?? (await startWorkers(world, options.workers ?? 1, { items: annItems, annShareDir }));
    try {
      while (inProcess !== undefined && !inProcess.running.engine.index.annActive)
        await new Promise((r) => setTimeout(r, 500));
      progress(
        `index loaded and HNSW built in ${Math.round((Date.now() - started) / 1000)} s (${serving.how})`,
      );
      const recall =
        inProcess === undefined
          ? await sharedBuildRecall(world, annShareDir as string)
          : measureRecall(inProcess.running, 200);
      const base = { url: serving.url, kind: 'recommend' as const, users: 10_000, items: annItems };
      // Warm-up as fast as autocannon goes (the capacity), then the target rate on an even schedule.
      const capacity = await load({ ...base, durationSeconds: seconds, connections: 16 });
      const profile = options.workers === undefined ? await startProfile() : undefined;
      const result = await load({
        ...base,
        durationSeconds: seconds,
        connections: 64,
        rate: SERVING_TARGETS.annRequestsPerSecond,
        paced: true,
      });
      await profile?.stop('serving-ann');
      results.push(
        capacityResult(`ANN (${annItems.toLocaleString('en-US')} items)`, capacity),
        {
          name: `ANN (${annItems.toLocaleString('en-US')} items): recall@10`,
          value: recall,
          unit: '',
          target: { op: '>=', value: SERVING_TARGETS.annRecall },
          note: 'against brute force, 200 queries',
        },
        {
          name: `ANN (${annItems.toLocaleString('en-US')} items): requests/s`,
          value: result.requestsPerSecond,
          unit: '/s',
          target: { op: '>=', value: SERVING_TARGETS.annRequestsPerSecond * 0.98 },
          note: `${where}, ${options.workers === undefined ? 'one process' : `${options.workers} workers sharing one HNSW build`}`,
        },
        {
          name: `ANN (${annItems.toLocaleString('en-US')} items): p99`,
          value: result.p99Ms,
          unit: 'ms',
          target: { op: '<=', value: SERVING_TARGETS.annP99Ms },
          note: describe(result),
        },
      );
    } finally {
      await serving.stop();
      if (annShareDir !== undefined) rmSync(annShareDir, { recursive: true, force: true });
    }
  } finally {
    await world.cleanup();
  }
  return results;
}

/** The world's configuration overrides with some serving settings added. */
function servingOverrides(world: World, serving: DeepPartial<Config>['serving']): DeepPartial<Config> {
  return { ...world.overrides, serving: { ...world.overrides.serving, ...serving } };
}

/**
 * Recall of the workers' shared build: an in-process serving engine that only adopts builds (never
 * builds) maps the same file and is measured like the in-process case.
 */
async function sharedBuildRecall(world: World, annShareDir: string): Promise<number> {
  const config = loadConfig({
    env: {},
    overrides: servingOverrides(world, { annShareDir, annBuilder: false }),
  });
  const follower = await start(world, config);
  try {
    while (!follower.running.engine.index.annActive) await new Promise((r) => setTimeout(r, 500));
    return measureRecall(follower.running, 200);
  } finally {
    await follower.stop();
  }
}

/** Recall@10 of the serving index's ANN path against an exact scan of the same vectors. */
function measureRecall(serving: RunningServing, queries: number): number {
  const index = serving.engine.index;
  const random = new Random(99);
  let hits = 0;
  const scores = new Float32Array(index.size);
  const all = Int32Array.from({ length: index.size }, (_, i) => i);
  for (let q = 0; q < queries; q++) {
    const query = Float32Array.from(embedding(random, index.dim));
    index.scoresInto(query, all, all.length, scores);
    const exact = new Set(selectTopK(scores, 10).indices);
    for (const p of index.top(query, 10, () => false).indices) if (exact.has(p)) hits++;
  }
  return hits / (queries * 10);
}
