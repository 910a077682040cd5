import type { ModelName } from '../shared/model/registry.ts';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../shared/config/index.ts';
import { Random } from '../shared/model/random.ts';
import { selectTopK } from '../shared/model/topk.ts';
import { type RunningServing } from '../services/serving/main.ts';
import type { LoadOptions, LoadResult } from './load.ts';
import type { BenchResult } from './report.ts';

import {
  ANN_ITEMS,
  ITEMS,
  SERVING_SCENARIOS,
  USERS,
  embedding,
  openWorld,
  root,
  seed,
  servingOverrides,
  type ServingBenchOptions,
  type ServingScenario,
  type World,
} from './serving-world.ts';
import { start, startProfile, startWorkers, type BenchServing } from './serving-process.ts';

export { SERVING_SCENARIOS };
export type { ServingBenchOptions, ServingScenario };

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
