import type { Registry } from 'prom-client';
import type { RecsysConfig } from '../../shared/config/index.ts';
import { MODEL_NAMES, MODELS, type ModelName } from '../../shared/model/registry.ts';
import { probe, type Logger } from '../../shared/observability/index.ts';
import type { EventLog, ModelStore } from '../../shared/ports/index.ts';
import { createEventCodec } from '../../shared/schemas/index.ts';
import { GroupWorker } from './group-worker.ts';
import { startOpsServer } from './http.ts';
import { createTrainerMetrics, initTrainerSeries } from './metrics.ts';
import { MfTrainer } from './mf-trainer.ts';
import { SessionTrainer } from './session-trainer.ts';
import type { ModelTrainer } from './model-trainer.ts';

export interface TrainerDeps {
  readonly config: RecsysConfig;
  readonly eventLog: EventLog;
  readonly store: ModelStore;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Serve /metrics, /healthz and /readyz on trainer.metricsHost:metricsPort (default true). */
  readonly http?: boolean;
  /** Called when a consumer stopped on a non-retriable error (main exits non-zero). */
  readonly onFatal?: (error: unknown) => void;
}

export interface Trainer {
  readonly workers: readonly GroupWorker[];
  readonly trainers: readonly ModelTrainer[];
  /** Where /metrics is served, when it is. */
  readonly metricsUrl: string | undefined;
  /** Finishes the batches in progress, writes them, publishes NeuMF's tower, leaves the groups. */
  stop(): Promise<void>;
}

/**
 * The trainer: one consumer group per model on the events topic (so a slow model lags alone),
 * models kept in the model store, metrics on a small HTTP port. The first model in
 * `trainer.models` also writes what serving reads (histories, popularity).
 */
export async function startTrainer(deps: TrainerDeps): Promise<Trainer> {
  const { config, eventLog, store, registry, logger } = deps;
  const log = logger.child({ component: 'trainer' });
  const metrics = createTrainerMetrics(registry);
  const codec = createEventCodec({ types: config.events.types, maxBytes: config.events.maxBytes });
  const trainers: ModelTrainer[] = [];
  for (const name of config.trainer.models)
    trainers.push(await TRAINERS[name]({ config, store, metrics, logger: log }));
  for (const trainer of trainers) initTrainerSeries(metrics, trainer.name, MODELS[trainer.name].evicted);
  const onFatal = deps.onFatal ?? (() => undefined);
  const workers = trainers.map(
    (trainer, i) =>
      new GroupWorker({
        config,
        eventLog,
        store,
        codec,
        metrics,
        logger,
        trainer,
        primary: i === 0,
        onFatal,
      }),
  );
  await eventLog.ensureTopics();
  for (const worker of workers) await worker.start();

  const evictor = startEvictor(config, store, metrics, log);
  const ops =
    deps.http === false
      ? undefined
      : await startOpsServer({
          host: config.trainer.metricsHost,
          port: config.trainer.metricsPort,
          registry,
          health: () => ({
            ok: workers.every((w) => w.healthy),
            details: Object.fromEntries(
              workers.map((w) => [
                w.groupId,
                { healthy: w.healthy, partitions: w.assignment(), batches: w.batches },
              ]),
            ),
          }),
          ready: async () => {
            // Bounded: with Kafka down a ping retries for seconds, longer than a prober waits.
            const [log, model] = await Promise.all([probe(() => eventLog.ping()), probe(() => store.ping())]);
            const failing = [
              ...(log ? [] : ['the event log does not answer']),
              ...(model ? [] : ['the model store does not answer']),
              ...workers.filter((w) => !w.healthy).map((w) => `consumer ${w.groupId} stopped`),
            ];
            return {
              ok: failing.length === 0,
              details: { eventLog: log, modelStore: model, ...(failing.length > 0 ? { failing } : {}) },
            };
          },
        });
  if (ops !== undefined) log.info({ url: ops.url }, 'trainer metrics and health');
  log.info({ models: config.trainer.models, groups: workers.map((w) => w.groupId) }, 'trainer started');

  let stopping: Promise<void> | undefined;
  return {
    workers,
    trainers,
    metricsUrl: ops?.url,
    stop: () => {
      stopping ??= (async () => {
        clearInterval(evictor);
        await Promise.all(workers.map((w) => w.stop()));
        for (const trainer of trainers) {
          await trainer
            .finish?.()
            .catch((error: unknown) => log.warn({ err: error, model: trainer.name }, 'final publish failed'));
          trainer.dispose?.();
        }
        await ops?.close();
        log.info('trainer stopped');
      })();
      return stopping;
    },
  };
}

/** How each model's trainer is made (NeuMF's module, and TF.js with it, loads only when asked for). */
const TRAINERS: Record<
  ModelName,
  (deps: {
    config: RecsysConfig;
    store: ModelStore;
    metrics: ReturnType<typeof createTrainerMetrics>;
    logger: Logger;
  }) => Promise<ModelTrainer>
> = {
  mf: async ({ config, store }) => new MfTrainer({ config, store }),
  session: async ({ config, store }) => new SessionTrainer({ config, store }),
  neumf: async ({ config, store, metrics, logger }) => {
    const [{ useBackend }, { NeuMfTrainer }] = await Promise.all([
      import('../../shared/model/tf-backend.ts'),
      import('./neumf-trainer.ts'),
    ]);
    const backend = await useBackend(config.model.backend);
    metrics.backend.set({ backend }, 1);
    logger.info({ backend }, 'NeuMF runs on this TF.js backend');
    return new NeuMfTrainer({ config, store });
  },
};

const EVICTED_TABLES = MODEL_NAMES.flatMap((name) => MODELS[name].evicted);

/** Deletes rows not written for trainer.evictAfterMs, every evictIntervalMs (when enabled). */
function startEvictor(
  config: RecsysConfig,
  store: ModelStore,
  metrics: ReturnType<typeof createTrainerMetrics>,
  log: Logger,
): NodeJS.Timeout | undefined {
  const after = config.trainer.evictAfterMs;
  if (after <= 0) return undefined;
  const timer = setInterval(() => {
    void (async () => {
      for (const table of EVICTED_TABLES) {
        const evicted = await store.evictRows(table, Date.now() - after);
        if (evicted > 0) {
          metrics.rowsEvicted.inc({ table }, evicted);
          log.info({ table, evicted }, 'evicted rows not written recently');
        }
      }
    })().catch((error: unknown) => log.warn({ err: error }, 'eviction failed; will try again'));
  }, config.trainer.evictIntervalMs);
  timer.unref();
  return timer;
}
