import { describe, expect, it } from 'vitest';
import { MemoryEventLog, MemoryModelStore } from '../../../shared/adapters/memory/index.ts';
import { loadConfig } from '../../../shared/config/index.ts';
import { createMetricsRegistry, silentLogger } from '../../../shared/observability/index.ts';
import { startTrainer } from '../../../services/trainer/trainer.ts';
import { waitUntil } from '../../support/wait.ts';

describe('the trainer per-user cap (events produced straight to the log)', () => {
  it('learns at most trainer.userEventsPerMinute events per user per minute of event time, counts the rest', async () => {
    const config = loadConfig({
      env: {},
      overrides: { trainer: { models: ['mf'], metricsPort: 0, userEventsPerMinute: 5 } },
    });
    const log = new MemoryEventLog({ partitions: 1 });
    const store = new MemoryModelStore();
    const registry = createMetricsRegistry({ service: 'trainer', defaultMetrics: false });
    const minute = 1_764_000_000_000 - (1_764_000_000_000 % 60_000);
    const event = (userId: string, k: number, timestamp: number) => ({
      key: userId,
      value: Buffer.from(JSON.stringify({ userId, itemId: `i${k}`, type: 'click', timestamp })),
    });
    // flood: 8 in one minute (5 learnt), then 2 in the next (both learnt); calm: 3.
    await log.append([
      ...Array.from({ length: 8 }, (_, k) => event('flood', k, minute + k * 1_000)),
      ...Array.from({ length: 3 }, (_, k) => event('calm', k, minute + k * 1_000)),
      ...Array.from({ length: 2 }, (_, k) => event('flood', k + 8, minute + 60_000 + k)),
    ]);
    const trainer = await startTrainer({
      config,
      eventLog: log,
      store,
      registry,
      logger: silentLogger(),
      http: false,
    });
    try {
      await waitUntil(
        async () => (await store.getOffsets('recsys-trainer-mf')).get(0) === 13,
        'all 13 records consumed',
        10_000,
        20,
      );
      expect(await store.getCounters('events:mf', ['flood', 'calm'])).toEqual([7, 3]);
      const capped = (await registry.getSingleMetric('recsys_trainer_events_total')?.get())?.values.find(
        (v) => v.labels['outcome'] === 'capped',
      );
      expect(capped?.value).toBe(3);
    } finally {
      await trainer.stop();
    }
  });
});
