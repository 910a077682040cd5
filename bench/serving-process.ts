import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { RecsysConfig } from '../shared/config/index.ts';
import { createMetricsRegistry, silentLogger } from '../shared/observability/index.ts';
import { startServing, type RunningServing } from '../services/serving/main.ts';
import { ITEMS, root, servingOverrides, type World } from './serving-world.ts';

/** Serving as the benchmark runs it: started, measured (CPU, /metrics) and stopped. */

/** Serving under load: in the benchmark process, or `recsys serving --workers N` children. */
export interface BenchServing {
  readonly url: string;
  /** Where it runs, for the report. */
  readonly how: string;
  /** CPU seconds serving used so far (all workers). */
  cpuSeconds(): Promise<number>;
  /** Its /metrics text (summed over workers). */
  metricsText(): Promise<string>;
  stop(): Promise<void>;
}

export async function start(
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
export function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(' ').pop());
}

/**
 * `recsys serving --workers N` as a child process on the world's Redis and Kafka, ready once every
 * worker holds `items` items (and, with `annShareDir`, searches the shared HNSW build).
 */
export async function startWorkers(
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
export async function startProfile(): Promise<{ stop(name: string): Promise<void> } | undefined> {
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
