import type { ModelName } from '../shared/model/registry.ts';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { MemoryEventLog, MemoryModelStore } from '../shared/adapters/memory/index.ts';
import { KafkaEventLog } from '../shared/adapters/kafka/index.ts';
import { RedisModelStore, connectRedis } from '../shared/adapters/redis/index.ts';
import {
  loadConfig,
  neumfConfigFrom,
  type Config,
  type DeepPartial,
  type RecsysConfig,
} from '../shared/config/index.ts';
import { DENSE_CHUNK, DENSE_COUNTER, DENSE_TABLE, chunkIds } from '../shared/model/neumf/dense-layout.ts';
import { NeuMF } from '../shared/model/neumf/neumf.ts';
import { Random } from '../shared/model/random.ts';
import { useBackend } from '../shared/model/tf-backend.ts';
import { silentLogger } from '../shared/observability/index.ts';
import type { EventLog, ModelStore, RowValue } from '../shared/ports/index.ts';

/**
 * The serving benchmark's world: a seeded catalog, users and trained-looking rows on the memory
 * store or on real Redis and Kafka, and the configuration serving runs with.
 */

export const SERVING_SCENARIOS = ['neumf', 'mf', 'ingest', 'ann'] as const;
export type ServingScenario = (typeof SERVING_SCENARIOS)[number];

export interface ServingBenchOptions {
  /** Real Redis and Kafka when given (what the targets are about); else the embedded adapters. */
  readonly redisUrl?: string;
  readonly kafkaBrokers?: string;
  /** 1 = the full benchmark (20 s per load, 1,000,000 items for the ANN run). */
  readonly scale: number;
  /** Run only these scenarios (default: all). */
  readonly only?: readonly ServingScenario[];
  /**
   * Run serving as `recsys serving --workers N` child processes (node:cluster) for the NeuMF and MF
   * scenarios, instead of inside the benchmark process. Needs Redis and Kafka.
   */
  readonly workers?: number;
  readonly onProgress?: (line: string) => void;
}

export const ITEMS = 10_000;
export const USERS = 100_000;
export const DIM = 64;
export const ANN_ITEMS = 1_000_000;
export const root = resolve(import.meta.dirname, '..');

export interface World {
  readonly config: RecsysConfig;
  /** The configuration overrides of this world, as a child serving process's config file takes them. */
  readonly overrides: DeepPartial<Config>;
  readonly store: ModelStore;
  readonly syncStore: ModelStore;
  readonly eventLog: EventLog;
  cleanup(): Promise<void>;
}

export async function openWorld(options: ServingBenchOptions, models: ModelName[]): Promise<World> {
  const id = randomUUID().slice(0, 8);
  const prefix = `bench-serving-${id}`;
  const overrides: DeepPartial<Config> = {
    ...(options.redisUrl === undefined ? {} : { redis: { url: options.redisUrl, keyPrefix: prefix } }),
    ...(options.kafkaBrokers === undefined
      ? {}
      : { kafka: { brokers: options.kafkaBrokers.split(','), topic: `${prefix}-events`, partitions: 4 } }),
    serving: { port: 0, annThreads: 2, userEventsPerMinute: 100_000 },
    trainer: { models },
    model: { mf: { dim: DIM } },
    log: { level: 'warn' },
  };
  const config = loadConfig({ env: {}, overrides });
  if (options.redisUrl === undefined) {
    const store = new MemoryModelStore();
    return {
      config,
      overrides,
      store,
      syncStore: store,
      eventLog: new MemoryEventLog({ partitions: 4 }),
      cleanup: async () => undefined,
    };
  }
  const client = await connectRedis({
    url: options.redisUrl,
    commandTimeoutMs: Math.max(1_000, 4 * config.serving.storeTimeoutMs),
    connectTimeoutMs: 5_000,
    autoPipelining: true,
  });
  const syncClient = await connectRedis({
    url: options.redisUrl,
    commandTimeoutMs: 30_000,
    connectTimeoutMs: 5_000,
  });
  const store = new RedisModelStore(client, { keyPrefix: prefix });
  const syncStore = new RedisModelStore(syncClient, { keyPrefix: prefix });
  const eventLog: EventLog =
    options.kafkaBrokers === undefined
      ? new MemoryEventLog({ partitions: 4 })
      : new KafkaEventLog({ ...config.kafka, logger: silentLogger() });
  await eventLog.ensureTopics();
  return {
    config,
    overrides,
    store,
    syncStore,
    eventLog,
    async cleanup() {
      let cursor = '0';
      do {
        const [next, keys] = await syncClient.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 10_000);
        cursor = next;
        if (keys.length > 0) await syncClient.unlink(...keys);
      } while (cursor !== '0');
      await eventLog.close();
      await store.close();
      await syncStore.close();
    },
  };
}

/**
 * MF rows shaped like trained embeddings rather than iid noise: component k has variance
 * proportional to (k + 10)^-2.85, a fit of the singular-value spectrum of the item rows MF learns
 * on MovieLens 100K at dimension 64 (there 5 components hold half the energy and 13 hold 80%;
 * iid Gaussian vectors need 27 and 48), and norms average about 1.5 as the trained rows' do.
 * Exact search does not care; an ANN index does, and the product searches trained rows.
 */
export function embedding(random: Random, dim: number): number[] {
  const shares = Array.from({ length: dim }, (_, k) => (k + 10) ** -2.85);
  const total = shares.reduce((a, b) => a + b, 0);
  return shares.map((share) => random.normal() * Math.sqrt((2.25 * share) / total));
}

export function vector(random: Random, dim: number, scale = 0.3): number[] {
  return Array.from({ length: dim }, () => random.normal() * scale);
}

export function rowOf(values: number[], count: number): RowValue {
  return { vector: Float32Array.from(values), bias: 0, count, updatedAt: Date.now() };
}

/** Writes what trainers would have: rows, registry, catalog, histories, popularity and (optionally) NeuMF. */
export async function seed(
  world: World,
  items: number,
  users: number,
  neumf: boolean,
  progress: (line: string) => void,
): Promise<void> {
  const random = new Random(7);
  const { syncStore: store, config } = world;
  const itemIds = Array.from({ length: items }, (_, i) => `i${i}`);
  const chunk = 2_000;
  for (let start = 0; start < items; start += chunk) {
    const ids = itemIds.slice(start, start + chunk);
    await store.putItems(
      ids.map((id, k) => ({
        id,
        record: {
          itemId: id,
          categories: [`c${(start + k) % 20}`],
          tags: [`t${(start + k) % 200}`, `t${(start * 7 + k) % 211}`],
        },
      })),
    );
    await store.commit({
      puts: [
        {
          table: 'mf:item',
          rows: ids.map((id) => ({ id, value: rowOf(embedding(random, DIM), 1 + random.int(500)) })),
        },
      ],
      newItems: { registry: 'mf', ids },
    });
    if (start % 100_000 === 0)
      progress(`seeded ${start.toLocaleString('en-US')} of ${items.toLocaleString('en-US')} items`);
  }
  for (let start = 0; start < users; start += chunk) {
    const ids = Array.from({ length: Math.min(chunk, users - start) }, (_, k) => `u${start + k}`);
    await store.commit({
      puts: [
        {
          table: 'mf:user',
          rows: ids.map((id) => ({ id, value: rowOf(embedding(random, DIM), 5 + random.int(200)) })),
        },
      ],
      history: ids.map((userId) => ({
        userId,
        items: Array.from({ length: 20 }, () => itemIds[random.int(items)] as string),
      })),
    });
  }
  const segments = [
    '*',
    ...['mobile', 'desktop', 'tv', 'tablet'].flatMap((d) =>
      ['night', 'morning', 'afternoon', 'evening'].map((h) => `device=${d}|hour=${h}`),
    ),
  ];
  await store.commit({
    popularity: segments.flatMap((segment) =>
      Array.from({ length: 500 }, () => ({
        segment,
        itemId: itemIds[random.int(items)] as string,
        by: random.next() * 100,
      })),
    ),
  });
  if (!neumf) return;
  const n = neumfConfigFrom(config);
  await useBackend('cpu');
  const model = new NeuMF(n);
  const flat = Float32Array.from(model.tower.variables.flatMap((v) => Array.from(v.dataSync())));
  model.dispose();
  const gmf = n.gmfDim ?? 32;
  const mlp = n.mlpDim ?? 32;
  for (let start = 0; start < items; start += chunk) {
    const ids = itemIds.slice(start, start + chunk);
    await store.commit({
      puts: [
        { table: 'ncf:gmf:item', rows: ids.map((id) => ({ id, value: rowOf(vector(random, gmf), 10) })) },
        { table: 'ncf:mlp:item', rows: ids.map((id) => ({ id, value: rowOf(vector(random, mlp), 10) })) },
      ],
      newItems: { registry: 'neumf', ids },
    });
  }
  for (let start = 0; start < users; start += chunk) {
    const ids = Array.from({ length: Math.min(chunk, users - start) }, (_, k) => `u${start + k}`);
    await store.commit({
      puts: [
        { table: 'ncf:gmf:user', rows: ids.map((id) => ({ id, value: rowOf(vector(random, gmf), 10) })) },
        { table: 'ncf:mlp:user', rows: ids.map((id) => ({ id, value: rowOf(vector(random, mlp), 10) })) },
      ],
    });
  }
  await store.commit({
    puts: [
      {
        table: DENSE_TABLE,
        rows: chunkIds(flat.length).map((id, c) => ({
          id,
          value: rowOf([...flat.subarray(c * DENSE_CHUNK, (c + 1) * DENSE_CHUNK)], 0),
        })),
      },
    ],
    counters: [{ name: DENSE_COUNTER, field: 'version', by: 1 }],
  });
}

/** The world's configuration overrides with some serving settings added. */
export function servingOverrides(world: World, serving: DeepPartial<Config>['serving']): DeepPartial<Config> {
  return { ...world.overrides, serving: { ...world.overrides.serving, ...serving } };
}
