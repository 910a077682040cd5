import { loadConfig, type Config, type DeepPartial, type RecsysConfig } from '../../shared/config/index.ts';
import { MemoryEventLog, MemoryModelStore } from '../../shared/adapters/memory/index.ts';
import { createLogger, createMetricsRegistry } from '../../shared/observability/index.ts';
import type { EventLog, ModelStore, RowValue } from '../../shared/ports/index.ts';
import { buildServingApp } from '../../services/serving/app.ts';
import { ServingEngine } from '../../services/serving/engine.ts';
import type { LoadGauge } from '../../services/serving/process/load-gauge.ts';
import { createServingMetrics } from '../../services/serving/process/metrics.ts';

/** Deep merge of plain objects (arrays are replaced). */
export function merge<T>(base: T, over: unknown): T {
  if (over === undefined) return base;
  if (
    typeof base !== 'object' ||
    base === null ||
    Array.isArray(base) ||
    typeof over !== 'object' ||
    over === null ||
    Array.isArray(over)
  )
    return over as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(over)) out[key] = merge(out[key], value);
  return out as T;
}

export const TEST_SERVING_CONFIG: DeepPartial<Config> = {
  serving: { port: 0, refreshMs: 50, storeTimeoutMs: 200, candidates: 50 },
  model: { mf: { dim: 4 } },
  trainer: { models: ['mf'] },
};

export function servingConfig(overrides: DeepPartial<Config> = {}): RecsysConfig {
  return loadConfig({ env: {}, overrides: merge(TEST_SERVING_CONFIG, overrides) });
}

/** A serving app on given (or fresh in-memory) adapters, index loaded, for inject() tests. */
export async function servingHarness(
  options: {
    config?: DeepPartial<Config>;
    store?: ModelStore;
    eventLog?: EventLog;
    clock?: () => number;
    load?: LoadGauge;
    /** Run the first refresh before returning (default true). */
    loaded?: boolean;
  } = {},
) {
  const config = servingConfig(options.config);
  const store = options.store ?? new MemoryModelStore();
  const eventLog = options.eventLog ?? new MemoryEventLog({ partitions: 2 });
  const logger = createLogger({ level: 'silent' });
  const registry = createMetricsRegistry({ service: 'serving', defaultMetrics: false });
  const metrics = createServingMetrics(registry);
  const engine = new ServingEngine({
    config,
    store,
    logger,
    metrics,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.load ? { load: options.load } : {}),
  });
  if (options.loaded !== false) await engine.refreshOnce();
  const app = await buildServingApp({
    config,
    engine,
    eventLog,
    registry,
    metrics,
    logger,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    app,
    engine,
    store,
    eventLog,
    config,
    registry,
    async close() {
      await app.close();
      await engine.stop();
    },
  };
}

/** A row value with a vector, bias and interaction count. */
export function row(vector: readonly number[], bias = 0, count = 1): RowValue {
  return { vector: Float32Array.from(vector), bias, count, updatedAt: Date.now() };
}

/**
 * Writes what a trainer would: MF item and user rows (registered and announced on the change
 * stream), histories and popularity.
 */
export async function seedModel(
  store: ModelStore,
  seed: {
    items?: Record<string, RowValue>;
    users?: Record<string, RowValue>;
    histories?: Record<string, string[]>;
    popularity?: Record<string, Record<string, number>>;
  },
): Promise<void> {
  const items = Object.entries(seed.items ?? {});
  await store.commit({
    puts: [
      { table: 'mf:item', rows: items.map(([id, value]) => ({ id, value })) },
      { table: 'mf:user', rows: Object.entries(seed.users ?? {}).map(([id, value]) => ({ id, value })) },
    ],
    history: Object.entries(seed.histories ?? {}).map(([userId, list]) => ({ userId, items: list })),
    // Given as decayed weights; the store keeps their log2 (shared/model/popularity.ts).
    popularity: Object.entries(seed.popularity ?? {}).flatMap(([segment, scores]) =>
      Object.entries(scores).map(([itemId, weight]) => ({ segment, itemId, by: Math.log2(weight) })),
    ),
    newItems: { registry: 'mf', ids: items.map(([id]) => id) },
    changedItems: { stream: 'mf', ids: items.map(([id]) => id) },
  });
}
