import cluster, { type Worker } from 'node:cluster';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { openEventLog } from '../../../shared/adapters/open.ts';
import { describeDeployment, type RecsysConfig } from '../../../shared/config/index.ts';
import { RecsysError } from '../../../shared/errors/index.ts';
import type { Logger } from '../../../shared/observability/index.ts';
import { ProcessLifetime } from '../../../shared/process/lifetime.ts';
import { operatorNodeFlags, servingHeapFlags, servingMemoryBytes } from './v8-flags.ts';
import { listenMetricsPort, type MetricsSource } from './metrics.ts';

/**
 * `serving.workers`: several serving processes on one port (node:cluster), so one machine's cores
 * all answer requests. The primary forks the workers, hands them connections round-robin, restarts
 * a worker that crashes after it was serving, gathers every worker's metrics into one /metrics
 * (prom-client's AggregatorRegistry) and forwards SIGTERM. Each worker is a whole serving process
 * with its own index, caches and Redis connections, exactly like one replica behind a load
 * balancer: what differs between replicas (result pages, the per-user event cap, the rate limit)
 * differs between workers too (docs/serving.md, "Workers").
 */

/** The worker count `serving.workers` asks for (0: one per available core). */
export function servingWorkerCount(config: RecsysConfig): number {
  return config.serving.workers === 0 ? availableParallelism() : config.serving.workers;
}

/** Workers share nothing but Redis and Kafka: the embedded store and log live in one process. */
export function assertClusterable(config: RecsysConfig): void {
  const deployment = describeDeployment(config);
  if (
    servingWorkerCount(config) > 1 &&
    (deployment.modelStore !== 'redis' || deployment.eventLog !== 'kafka')
  ) {
    throw new RecsysError('CONFIG_INVALID', {
      message: `serving.workers (${config.serving.workers}) above 1 needs REDIS_URL and KAFKA_BROKERS: the embedded store and event log live in one process's memory. Set both, or RECSYS_SERVING_WORKERS=1.`,
    });
  }
}

const METRICS_REQUEST = 'recsys:metrics-request';
const METRICS_RESPONSE = 'recsys:metrics-response';

interface MetricsRequest {
  readonly type: typeof METRICS_REQUEST;
  readonly id: number;
}

interface MetricsResponse {
  readonly type: typeof METRICS_RESPONSE;
  readonly id: number;
  readonly body?: string;
  readonly error?: string;
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

/**
 * In a worker: answers the primary's requests for this worker's metrics (prom-client's protocol)
 * and returns the source /metrics serves, which asks the primary for every worker's figures.
 */
export function workerMetrics(registry: Registry, timeoutMs = 6_000): MetricsSource {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs prom-client's listener for the primary's requests
  let next = 0;
  const pending = new Map<number, { resolve(body: string): void; reject(error: Error): void }>();
  process.on('message', (message: unknown) => {
    if (!isMessage<MetricsResponse>(message, METRICS_RESPONSE)) return;
    const waiter = pending.get(message.id);
    if (waiter === undefined) return;
    pending.delete(message.id);
    if (message.body !== undefined) waiter.resolve(message.body);
    else waiter.reject(new Error(message.error ?? 'no metrics'));
  });
  return {
    contentType: registry.contentType,
    metrics() {
      const id = next++;
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`the primary did not send the cluster's metrics within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (body) => {
            clearTimeout(timer);
            resolve(body);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        process.send?.({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
      });
    },
  };
}

/** Restart delays of a worker that crashed while serving: 1 s doubling to 30 s, reset after a minute up. */
const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 30_000;
const STABLE_MS = 60_000;

/**
 * The primary of `recsys serving` with serving.workers > 1. Resolves with the exit code: 0 after
 * SIGTERM when every worker drained and exited 0; a worker's own exit code when it failed before it
 * ever listened (a start-up error: its log says which, and restarting would only repeat it).
 */
export async function runServingPrimary(
  config: RecsysConfig,
  logger: Logger,
  /** The NODE_OPTIONS the primary was launched with (the workers inherit it; its flags win). */
  nodeOptions?: string,
): Promise<number> {
  assertClusterable(config);
  const count = servingWorkerCount(config);
  // Topics once, here: workers creating them at the same moment would race (and log the loser's error).
  const eventLog = openEventLog(config, logger);
  try {
    await eventLog.ensureTopics();
  } finally {
    await eventLog.close();
  }
  const aggregator = new AggregatorRegistry();
  const own = new Registry();
  own.setDefaultLabels({ service: 'serving' });
  const alive = new Gauge({
    name: 'recsys_serving_workers',
    help: 'Serving worker processes listening (serving.workers).',
    registers: [own],
  });
  const restarts = new Counter({
    name: 'recsys_serving_worker_restarts_total',
    help: 'Serving workers restarted after they crashed.',
    registers: [own],
  });
  const clusterMetrics = async (): Promise<string> =>
    `${await aggregator.clusterMetrics()}\n${await own.metrics()}`;

  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isMessage<MetricsRequest>(message, METRICS_REQUEST)) return;
    clusterMetrics().then(
      (body) => worker.send({ type: METRICS_RESPONSE, id: message.id, body } satisfies MetricsResponse),
      (error: Error) =>
        worker.send({
          type: METRICS_RESPONSE,
          id: message.id,
          error: error.message,
        } satisfies MetricsResponse),
    );
  });

  const lifetime = new ProcessLifetime(logger, 'stopping: asking the serving workers to drain');
  let stopping = false;
  let startupFailure: number | undefined;
  const listening = new Set<Worker>();
  let announced = false;
  let delay = RESTART_MIN_MS;

  // One HNSW build for all workers (ann-share.ts): the first worker builds, the others map its file.
  const shareDir =
    config.serving.annShareDir === '' ? mkdtempSync(join(tmpdir(), 'recsys-ann-share-')) : undefined;
  const annEnv = (slot: number) => ({
    RECSYS_SERVING_ANN_SHARE_DIR: shareDir ?? config.serving.annShareDir,
    RECSYS_SERVING_ANN_BUILDER: slot === 0 && config.serving.annBuilder ? 'true' : 'false',
  });

  // The workers' heap flags (heap.ts); the primary itself serves nothing and keeps V8's defaults.
  const heapFlags = servingHeapFlags(
    config,
    count,
    servingMemoryBytes(),
    operatorNodeFlags(process.execArgv, nodeOptions),
  );
  cluster.setupPrimary({ execArgv: [...process.execArgv, ...heapFlags] });
  logger.info({ workers: count, heapFlags }, 'starting serving workers');

  const fork = (slot: number): Worker => {
    // A restarted worker keeps its slot, so the builder stays the builder.
    const env = annEnv(slot);
    const worker = cluster.fork(env);
    const startedAt = Date.now();
    let listened = false;
    worker.on('listening', (address) => {
      listening.add(worker);
      listened = true;
      alive.set(listening.size);
      logger.info(
        {
          pid: worker.process.pid,
          worker: worker.id,
          annBuilder: env.RECSYS_SERVING_ANN_BUILDER === 'true',
          heapFlags,
        },
        'serving worker listening',
      );
      if (!announced && listening.size === count) {
        announced = true;
        const host = address.address ?? config.serving.host;
        const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
        logger.info({ url, workers: count }, 'serving listening');
      }
    });
    worker.on('exit', (code, signal) => {
      listening.delete(worker);
      alive.set(listening.size);
      if (stopping) return;
      if (!listened) {
        logger.error({ pid: worker.process.pid, code, signal }, 'a serving worker failed to start; stopping');
        startupFailure = code ?? 1;
        lifetime.stop();
        return;
      }
      if (Date.now() - startedAt > STABLE_MS) delay = RESTART_MIN_MS;
      logger.error(
        { pid: worker.process.pid, code, signal, restartInMs: delay },
        'a serving worker exited; restarting it',
      );
      restarts.inc();
      setTimeout(() => {
        if (!stopping) fork(slot);
      }, delay).unref();
      delay = Math.min(RESTART_MAX_MS, delay * 2);
    });
    return worker;
  };
  for (let slot = 0; slot < count; slot++) fork(slot);

  let metricsServer: Server | undefined;
  if (config.serving.metricsPort > 0) {
    const port = await listenMetricsPort(
      { contentType: aggregator.contentType, metrics: clusterMetrics },
      config.serving.host,
      config.serving.metricsPort,
    );
    metricsServer = port.server;
    logger.info({ metricsUrl: port.url }, 'cluster metrics listening');
  }

  let code = 0;
  await lifetime.shutdown(20_000, async () => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const exits = workers.map(
      (worker) =>
        new Promise<number>((resolve) => {
          if (worker.process.exitCode !== null) resolve(worker.process.exitCode);
          else worker.process.once('exit', (exitCode) => resolve(exitCode ?? 1));
        }),
    );
    for (const worker of workers) worker.process.kill('SIGTERM');
    const codes = await Promise.all(exits);
    await new Promise<void>((resolve) =>
      metricsServer === undefined ? resolve() : metricsServer.close(() => resolve()),
    );
    code = startupFailure ?? (codes.some((c) => c !== 0) ? 1 : 0);
  });
  if (shareDir !== undefined) rmSync(shareDir, { recursive: true, force: true });
  return code;
}
