import { MemoryEventLog, type MemoryModelStore } from '../../shared/adapters/memory/index.ts';
import { loadConfig, type Config, type DeepPartial } from '../../shared/config/index.ts';
import { createMetricsRegistry, silentLogger } from '../../shared/observability/index.ts';
import { startTrainer } from '../../services/trainer/trainer.ts';
import { merge } from './serving.ts';
import { waitUntil } from './wait.ts';

/**
 * Runs the trainer on an embedded one-partition log holding `records` until every group in
 * `groups` has consumed them all, stops it, and returns the log and a sum over
 * recsys_trainer_events_total by outcome and model.
 */
export async function trainUntilConsumed(
  overrides: DeepPartial<Config>,
  store: MemoryModelStore,
  records: { key: string; value: Buffer }[],
  groups: string[],
) {
  const config = loadConfig({
    env: {},
    overrides: merge({ trainer: { metricsPort: 0, retryDelayMs: 10 } }, overrides),
  });
  const log = new MemoryEventLog({ partitions: 1 });
  await log.append(records);
  const registry = createMetricsRegistry({ service: 'trainer', defaultMetrics: false });
  const trainer = await startTrainer({
    config,
    eventLog: log,
    store,
    registry,
    logger: silentLogger(),
    http: false,
  });
  try {
    for (const group of groups)
      await waitUntil(
        async () => (await store.getOffsets(group)).get(0) === records.length,
        `${group} to consume every record`,
        60_000,
        20,
      );
  } finally {
    await trainer.stop();
  }
  const events = (await registry.getSingleMetric('recsys_trainer_events_total')?.get())?.values ?? [];
  const sum = (outcome: string, model: string) =>
    events
      .filter((v) => v.labels['outcome'] === outcome && v.labels['model'] === model)
      .reduce((a, v) => a + v.value, 0);
  return { log, sum };
}
