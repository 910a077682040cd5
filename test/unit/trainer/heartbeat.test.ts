import { describe, expect, it } from 'vitest';
import { MemoryEventLog, MemoryModelStore } from '../../../shared/adapters/memory/index.ts';
import { loadConfig } from '../../../shared/config/index.ts';
import { createMetricsRegistry, silentLogger } from '../../../shared/observability/index.ts';
import type { CommitBatch, ConsumeOptions, EventLog } from '../../../shared/ports/index.ts';
import { startTrainer } from '../../../services/trainer/trainer.ts';
import { waitUntil } from '../../support/wait.ts';

describe('trainer heartbeats', () => {
  it('keeps the group membership alive while a batch waits for a slow write', async () => {
    const config = loadConfig({
      env: {},
      overrides: {
        trainer: { models: ['mf'], flushRecords: 1, metricsPort: 0 },
        kafka: { heartbeatIntervalMs: 100 },
      },
    });
    const log = new MemoryEventLog({ partitions: 1 });
    // Count the heartbeats the trainer sends while it holds a batch.
    let heartbeats = 0;
    const eventLog: EventLog = Object.create(log) as EventLog;
    eventLog.consume = (options: ConsumeOptions) =>
      log.consume({
        ...options,
        eachBatch: (batch, context) =>
          options.eachBatch(batch, {
            ...context,
            heartbeat: async () => {
              heartbeats++;
              await context.heartbeat();
            },
          }),
      });
    // Every write takes 600 ms: the next batch waits for it (flushRecords 1).
    const store = new MemoryModelStore();
    const commit = store.commit.bind(store);
    store.commit = async (batch: CommitBatch) => {
      await new Promise((r) => setTimeout(r, 600));
      return commit(batch);
    };
    const trainer = await startTrainer({
      config,
      eventLog,
      store,
      registry: createMetricsRegistry({ service: 'trainer', defaultMetrics: false }),
      logger: silentLogger(),
      http: false,
    });
    try {
      for (let k = 0; k < 3; k++) {
        await log.append([
          { key: 'u1', value: Buffer.from(JSON.stringify({ userId: 'u1', itemId: `i${k}`, type: 'click' })) },
        ]);
        await new Promise((r) => setTimeout(r, 50));
      }
      await waitUntil(
        async () => (await store.getOffsets('recsys-trainer-mf')).get(0) === 3,
        'all three written',
        10_000,
        50,
      );
      // Three writes of 600 ms with batches waiting on them: several heartbeats at 100 ms.
      expect(heartbeats).toBeGreaterThanOrEqual(3);
    } finally {
      await trainer.stop();
      await log.close();
    }
  });
});
