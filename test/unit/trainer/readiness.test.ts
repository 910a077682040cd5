import { describe, expect, it } from 'vitest';
import { MemoryEventLog, MemoryModelStore } from '../../../shared/adapters/memory/index.ts';
import { loadConfig } from '../../../shared/config/index.ts';
import { createMetricsRegistry, silentLogger } from '../../../shared/observability/index.ts';
import { startTrainer } from '../../../services/trainer/trainer.ts';

describe('trainer /readyz', () => {
  it('answers 503 with the failing check while the event log does not answer (a ping that hangs)', async () => {
    const config = loadConfig({ env: {}, overrides: { trainer: { models: ['mf'], metricsPort: 0 } } });
    // Kafka down: kafkajs keeps retrying its connection, so the ping neither succeeds nor fails.
    const eventLog = new MemoryEventLog({ partitions: 1 });
    let hanging = false;
    const ping = eventLog.ping.bind(eventLog);
    eventLog.ping = () => (hanging ? new Promise<boolean>(() => undefined) : ping());
    const trainer = await startTrainer({
      config,
      eventLog,
      store: new MemoryModelStore(),
      registry: createMetricsRegistry({ service: 'trainer', defaultMetrics: false }),
      logger: silentLogger(),
    });
    try {
      const ready = () => fetch(`${trainer.metricsUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
      expect((await ready()).status).toBe(200);
      hanging = true;
      const res = await ready();
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({
        status: 'not-ready',
        eventLog: false,
        modelStore: true,
        failing: ['the event log does not answer'],
      });
    } finally {
      await trainer.stop();
    }
  });
});
