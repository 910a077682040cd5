import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { openEventLog, openModelStore } from '../../shared/adapters/open.ts';
import type { RecsysConfig } from '../../shared/config/index.ts';
import { createLogger, createMetricsRegistry, type Logger } from '../../shared/observability/index.ts';
import type { EventLog, ModelStore } from '../../shared/ports/index.ts';
import type { AnnParams } from './index/ann-index.ts';
import { ProcessLifetime } from '../../shared/process/lifetime.ts';
import { buildServingApp } from './app.ts';
import { runServingPrimary, servingWorkerCount, workerMetrics } from './process/cluster.ts';
import type { MetricsSource } from './process/metrics.ts';
import { ServingEngine } from './engine.ts';
import { currentHeapFlags } from './process/v8-flags.ts';
import { createServingMetrics, initServingSeries, listenMetricsPort } from './process/metrics.ts';

export interface ServingDeps {
  readonly config: RecsysConfig;
  readonly eventLog: EventLog;
  readonly store: ModelStore;
  readonly syncStore?: ModelStore;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly annParams?: AnnParams;
  /**
   * Set in a cluster worker (serving.workers > 1): /metrics serves the whole cluster's figures from
   * here, and the primary, not the worker, owns serving.metricsPort.
   */
  readonly clusterMetrics?: MetricsSource;
}

export interface RunningServing {
  readonly app: FastifyInstance;
  readonly engine: ServingEngine;
  /** Base URL of the API, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  /** Base URL of the separate metrics port, when serving.metricsPort is set. */
  readonly metricsUrl: string | undefined;
  /** Stops accepting requests, drains in-flight ones, stops the refresh loop. */
  stop(): Promise<void>;
}

/** Starts serving on given adapters: engine (loads in the background), API, optional metrics port. */
export async function startServing(deps: ServingDeps): Promise<RunningServing> {
  const { config, logger, registry } = deps;
  const metrics = createServingMetrics(registry);
  initServingSeries(metrics);
  const engine = new ServingEngine({
    config,
    store: deps.store,
    ...(deps.syncStore === undefined ? {} : { syncStore: deps.syncStore }),
    logger,
    metrics,
    ...(deps.annParams === undefined ? {} : { annParams: deps.annParams }),
  });
  engine.start();
  const app = await buildServingApp({
    config,
    engine,
    eventLog: deps.eventLog,
    registry: deps.clusterMetrics ?? registry,
    metrics,
    logger,
  });
  const address = await app.listen({ host: config.serving.host, port: config.serving.port });
  let metricsServer: Server | undefined;
  let metricsUrl: string | undefined;
  if (config.serving.metricsPort > 0 && deps.clusterMetrics === undefined) {
    const listening = await listenMetricsPort(registry, config.serving.host, config.serving.metricsPort);
    metricsServer = listening.server;
    metricsUrl = listening.url;
  }
  // In a cluster the primary announces the URL once every worker listens.
  if (deps.clusterMetrics === undefined)
    logger.info({ url: address, metricsUrl, heapFlags: currentHeapFlags() }, 'serving listening');
  return {
    app,
    engine,
    url: address,
    metricsUrl,
    async stop() {
      await app.close();
      await new Promise<void>((resolve) =>
        metricsServer === undefined ? resolve() : metricsServer.close(() => resolve()),
      );
      await engine.stop();
    },
  };
}

/**
 * Runs serving as a process: opens the configured adapters (a Redis connection with the short
 * request-path timeout, another for the background refresh), listens, and on SIGTERM or SIGINT
 * stops accepting, drains in-flight requests and exits 0. Resolves with the exit code. With
 * serving.workers > 1 this process becomes the cluster's primary (cluster.ts) and each worker it
 * forks runs this function again as one serving process.
 */
export async function runServingProcess(
  config: RecsysConfig,
  launch: { readonly nodeOptions?: string | undefined } = {},
): Promise<number> {
  const logger = createLogger({ level: config.log.level, pretty: config.log.pretty, name: 'recsys-serving' });
  if (cluster.isPrimary && servingWorkerCount(config) > 1)
    return runServingPrimary(config, logger, launch.nodeOptions);
  if (cluster.isWorker) {
    try {
      return await runOneServingProcess(config, logger);
    } finally {
      // A worker's IPC channel to the primary would keep it alive, after a stop or a start-up error.
      cluster.worker?.disconnect();
    }
  }
  return runOneServingProcess(config, logger);
}

async function runOneServingProcess(config: RecsysConfig, logger: Logger): Promise<number> {
  const registry = createMetricsRegistry({ service: 'serving' });
  const eventLog = openEventLog(config, logger);
  const store = await openModelStore(config, logger, 'recsys-serving', {
    // The store guard enforces serving.storeTimeoutMs per request; the driver's own timeout is a
    // backstop, longer so that an event-loop stall alone does not fail commands.
    commandTimeoutMs: Math.max(1_000, 4 * config.serving.storeTimeoutMs),
    autoPipelining: true,
  });
  const syncStore =
    store.kind === 'redis' ? await openModelStore(config, logger, 'recsys-serving-sync') : store;
  await eventLog.ensureTopics();
  const serving = await startServing({
    config,
    eventLog,
    store,
    syncStore,
    registry,
    logger,
    ...(cluster.isWorker ? { clusterMetrics: workerMetrics(registry) } : {}),
  });
  const lifetime = new ProcessLifetime(logger, 'stopping: draining in-flight requests');
  await lifetime.shutdown(15_000, async () => {
    await serving.stop();
    await eventLog.close();
    if (syncStore !== store) await syncStore.close();
    await store.close();
  });
  return 0;
}
