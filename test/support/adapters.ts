import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Redis } from 'ioredis';
import { KafkaEventLog, type KafkaEventLogOptions } from '../../shared/adapters/kafka/index.ts';
import { RedisModelStore, connectRedis } from '../../shared/adapters/redis/index.ts';
import { silentLogger } from '../../shared/observability/index.ts';
import type { ServiceEndpoints } from './services.ts';

/** A short unique name for a test's topic, group or key prefix. */
export function uniqueName(kind: string): string {
  return `t-${kind}-${randomUUID().slice(0, 8)}`;
}

export function kafkaLog(
  services: ServiceEndpoints,
  overrides: Partial<KafkaEventLogOptions> = {},
): KafkaEventLog {
  const topic = overrides.topic ?? uniqueName('events');
  return new KafkaEventLog({
    brokers: services.kafkaBrokers.split(','),
    clientId: 'recsys-test',
    topic,
    deadLetterTopic: overrides.deadLetterTopic ?? `${topic}.dlq`,
    partitions: 4,
    replicationFactor: 1,
    connectionTimeoutMs: 3_000,
    requestTimeoutMs: 30_000,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 500,
    logger: silentLogger(),
    retryDelayMs: 100,
    ...overrides,
  });
}

/** Deletes topics a test created. */
export async function deleteTopics(services: ServiceEndpoints, topics: readonly string[]): Promise<void> {
  const admin = new Kafka({ brokers: services.kafkaBrokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

export async function redisStore(services: ServiceEndpoints, keyPrefix: string): Promise<RedisModelStore> {
  const client = await connectRedis({
    url: services.redisUrl,
    commandTimeoutMs: 5_000,
    connectTimeoutMs: 5_000,
  });
  return new RedisModelStore(client, { keyPrefix });
}

/** Removes every key under a prefix (SCAN, never KEYS). */
export async function deleteKeys(services: ServiceEndpoints, keyPrefix: string): Promise<void> {
  const client = new Redis(services.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${keyPrefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
