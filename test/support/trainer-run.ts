import { inject } from 'vitest';
import type { DeepPartial, Config } from '../../shared/config/index.ts';
import { deleteKeys, deleteTopics, kafkaLog, redisStore, uniqueName } from './adapters.ts';
import type { ServiceEndpoints } from './services.ts';
import { writeTestConfig } from './trainer-process.ts';

/** A fresh topic, key prefix and consumer-group prefix for one trainer test, and its config file. */
export async function trainerRun(options: {
  partitions: number;
  services?: ServiceEndpoints;
  config?: DeepPartial<Config>;
}) {
  const services = options.services ?? inject('services');
  const topic = uniqueName('events');
  const prefix = uniqueName('store');
  const groupPrefix = uniqueName('g');
  const log = kafkaLog(services, { topic, partitions: options.partitions });
  await log.ensureTopics();
  const store = await redisStore(services, prefix);
  const base: DeepPartial<Config> = {
    kafka: { topic, partitions: options.partitions, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 },
    redis: { keyPrefix: prefix },
    trainer: { models: ['mf'], groupPrefix, metricsPort: 0, auditEventIds: true, retryDelayMs: 100 },
    model: { mf: { dim: 16, negatives: 2 } },
  };
  const merged = {
    ...base,
    ...options.config,
    kafka: { ...base.kafka, ...options.config?.kafka },
    redis: { ...base.redis, ...options.config?.redis },
    trainer: { ...base.trainer, ...options.config?.trainer },
    model: { ...base.model, ...options.config?.model },
  };
  const configFile = writeTestConfig(merged);
  return {
    services,
    topic,
    prefix,
    groupId: `${groupPrefix}-mf`,
    log,
    store,
    configFile,
    cleanup: async () => {
      await log.close();
      await store.close();
      await deleteTopics(services, [topic, `${topic}.dlq`]).catch(() => undefined);
      await deleteKeys(services, prefix).catch(() => undefined);
    },
  };
}
