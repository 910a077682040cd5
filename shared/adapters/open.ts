import { join } from 'node:path';
import { describeDeployment, type RecsysConfig } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';
import type { EventLog, ModelStore } from '../ports/index.ts';
import { KafkaEventLog } from './kafka/index.ts';
import { lockDataDir } from './memory/data-lock.ts';
import { MemoryEventLog, MemoryModelStore, loadModelState } from './memory/index.ts';
import { RedisModelStore, connectRedis, redactUrl } from './redis/index.ts';

/**
 * Opens the event log the config selects: Kafka when brokers are configured, else the embedded
 * in-memory log persisted under the data folder.
 */
export function openEventLog(config: RecsysConfig, logger: Logger): EventLog {
  if (describeDeployment(config).eventLog === 'kafka') {
    logger.info({ brokers: config.kafka.brokers, topic: config.kafka.topic }, 'event log: Kafka');
    return new KafkaEventLog({ ...config.kafka, logger });
  }
  lockDataDir(config.embedded.dataDir);
  const dataDir = join(config.embedded.dataDir, 'events');
  logger.info({ dataDir }, 'event log: embedded (in memory, persisted to disk)');
  return new MemoryEventLog({ partitions: config.embedded.partitions, dataDir });
}

/**
 * Opens the model store the config selects: Redis when REDIS_URL is set, else the embedded
 * in-memory store loaded from and saved to the data folder.
 */
export async function openModelStore(
  config: RecsysConfig,
  logger: Logger,
  name = 'recsys',
  /**
   * Per-connection overrides (serving's request path uses a shorter command timeout). `readOnly`:
   * the embedded store is loaded from its last save and never written back, and does not take the
   * data folder's lock (inspect, export next to a running process).
   */
  options: {
    readonly commandTimeoutMs?: number;
    readonly autoPipelining?: boolean;
    readonly readOnly?: boolean;
  } = {},
): Promise<ModelStore> {
  if (describeDeployment(config).modelStore === 'redis') {
    logger.info(
      { url: redactUrl(config.redis.url), keyPrefix: config.redis.keyPrefix },
      'model store: Redis',
    );
    const { readOnly: _readOnly, ...connection } = options;
    const client = await connectRedis({ ...config.redis, ...connection, connectionName: name });
    return new RedisModelStore(client, { keyPrefix: config.redis.keyPrefix });
  }
  const file = join(config.embedded.dataDir, 'model.json');
  if (options.readOnly === true) {
    logger.info({ file }, 'model store: embedded, read-only (the last saved state)');
    return new MemoryModelStore({ state: loadModelState(file) });
  }
  lockDataDir(config.embedded.dataDir);
  logger.info({ file }, 'model store: embedded (in memory, persisted to disk)');
  return new MemoryModelStore({
    state: loadModelState(file),
    file,
    persistIntervalMs: config.embedded.persistIntervalMs,
  });
}
