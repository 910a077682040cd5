import {
  Partitioners,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  type Producer,
} from 'kafkajs';
import { RecsysError, isRetriable } from '../../errors/index.ts';
import type { Logger } from '../../observability/index.ts';
import {
  deadLetterHeaders,
  type ConsumeOptions,
  type DeadLetterRecord,
  type EventLog,
  type LogRecord,
  type LogTopic,
  type RecordBatch,
  type Subscription,
} from '../../ports/index.ts';
import { createKafkaClient } from './client.ts';
import { chunkBySize, toConsumedRecord } from './records.ts';

export interface KafkaEventLogOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly topic: string;
  readonly deadLetterTopic: string;
  /** Partitions of the events topic when ensureTopics() creates it. */
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly logger: Logger;
  /** Pause before re-delivering after a retriable error in eachBatch. */
  readonly retryDelayMs?: number;
  /** Batches of different partitions processed at once by one consumer. */
  readonly partitionsConsumedConcurrently?: number;
}

const SEND_MAX_BYTES = 512 * 1024;
const SEND_MAX_COUNT = 5_000;

/**
 * The event log on Apache Kafka (kafkajs). Producing waits for all in-sync replicas (acks=-1) and
 * uses Kafka's default murmur2 partitioner on the key. Consumers join a group, and on every
 * assignment seek each partition to the offset the caller's `onAssign` returns (the offset stored
 * with the model), so Kafka's own committed offsets only serve lag monitoring.
 */
export class KafkaEventLog implements EventLog {
  readonly kind = 'kafka' as const;
  readonly #kafka: Kafka;
  readonly #options: KafkaEventLogOptions;
  readonly #logger: Logger;
  readonly #subscriptions = new Set<Subscription>();
  #producer: Promise<Producer> | undefined;
  #admin: Promise<Admin> | undefined;

  constructor(options: KafkaEventLogOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'kafka-event-log' });
    this.#kafka = createKafkaClient(options);
  }

  #topicName(topic: LogTopic): string {
    return topic === 'events' ? this.#options.topic : this.#options.deadLetterTopic;
  }

  async partitions(): Promise<number> {
    const admin = await this.#getAdmin();
    const metadata = await this.#wrap('metadata', () =>
      admin.fetchTopicMetadata({ topics: [this.#options.topic] }),
    );
    return metadata.topics[0]?.partitions.length ?? 0;
  }

  async ensureTopics(): Promise<void> {
    const admin = await this.#getAdmin();
    const existing = new Set(await this.#wrap('listTopics', () => admin.listTopics()));
    const wanted = [
      { topic: this.#options.topic, numPartitions: this.#options.partitions },
      { topic: this.#options.deadLetterTopic, numPartitions: 1 },
    ].filter(({ topic }) => !existing.has(topic));
    if (wanted.length === 0) return;
    await this.#wrap('createTopics', () =>
      admin.createTopics({
        waitForLeaders: true,
        topics: wanted.map((t) => ({ ...t, replicationFactor: this.#options.replicationFactor })),
      }),
    );
    this.#logger.info({ topics: wanted.map((t) => t.topic) }, 'created topics');
  }

  async append(records: readonly LogRecord[]): Promise<void> {
    if (records.length === 0) return;
    const producer = await this.#getProducer();
    for (const chunk of chunkBySize(records, SEND_MAX_BYTES, SEND_MAX_COUNT)) {
      await this.#wrap('produce', () =>
        producer.send({
          topic: this.#options.topic,
          acks: -1,
          messages: chunk.map((record) => ({
            key: record.key,
            value: Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength),
            ...(record.headers === undefined ? {} : { headers: { ...record.headers } }),
            ...(record.timestamp === undefined ? {} : { timestamp: String(record.timestamp) }),
          })),
        }),
      );
    }
  }

  async deadLetter(records: readonly DeadLetterRecord[]): Promise<void> {
    if (records.length === 0) return;
    const producer = await this.#getProducer();
    for (const chunk of chunkBySize(records, SEND_MAX_BYTES, SEND_MAX_COUNT)) {
      await this.#wrap('produce to the dead-letter topic', () =>
        producer.send({
          topic: this.#options.deadLetterTopic,
          acks: -1,
          messages: chunk.map((record) => ({
            key: record.key,
            value: Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength),
            headers: deadLetterHeaders(record),
          })),
        }),
      );
    }
  }

  async endOffsets(topic: LogTopic = 'events'): Promise<ReadonlyMap<number, number>> {
    const admin = await this.#getAdmin();
    const offsets = await this.#wrap('fetchTopicOffsets', () =>
      admin.fetchTopicOffsets(this.#topicName(topic)),
    );
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  }

  async ping(): Promise<boolean> {
    try {
      const admin = await this.#getAdmin();
      await admin.describeCluster();
      return true;
    } catch {
      return false;
    }
  }

  async consume(options: ConsumeOptions): Promise<Subscription> {
    const topic = this.#topicName(options.topic ?? 'events');
    const logger = this.#logger.child({ groupId: options.groupId, topic });
    const retryDelayMs = this.#options.retryDelayMs ?? 500;
    const consumer: Consumer = this.#kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: this.#options.sessionTimeoutMs,
      heartbeatInterval: this.#options.heartbeatIntervalMs,
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000, restartOnFailure: async () => true },
    });

    let assigned: number[] = [];
    // Resolves once onAssign answered and the seeks are queued; every batch waits on it.
    let ready: Promise<void> = Promise.resolve();
    let stopping = false;
    let failed = false;

    const assign = async (partitions: number[]): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        try {
          const starts = (await options.onAssign?.(partitions)) ?? new Map<number, number>();
          for (const [partition, offset] of starts) {
            if (partitions.includes(partition)) consumer.seek({ topic, partition, offset: String(offset) });
          }
          return;
        } catch (error) {
          if (!isRetriable(error) || stopping) throw error;
          logger.warn({ err: error, attempt }, 'onAssign failed; retrying');
          await sleep(Math.min(retryDelayMs * 2 ** attempt, 10_000));
        }
      }
    };

    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const next = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
      const revoked = assigned.filter((p) => !next.includes(p));
      assigned = next;
      logger.info({ partitions: next }, 'partitions assigned');
      const previous = ready;
      ready = (async () => {
        await previous.catch(() => undefined);
        if (revoked.length > 0) await options.onRevoke?.(revoked);
        if (next.length > 0) await assign(next);
      })();
      ready.catch((error: unknown) => fail(error));
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      logger.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
    });

    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      logger.error({ err: error }, 'consumer stopped by a non-retriable error');
      options.onError?.(error);
      void subscription.stop();
    };

    const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
      await ready.catch(() => undefined);
      const { batch } = payload;
      if (failed || stopping || payload.isStale() || !payload.isRunning()) return;
      const partition = batch.partition;
      const records = batch.messages.map((m) => toConsumedRecord(m, partition));
      const recordBatch: RecordBatch = {
        topic: options.topic ?? 'events',
        partition,
        records,
        firstOffset: Number((batch as unknown as { fetchedOffset: string }).fetchedOffset),
        nextOffset: Number(batch.lastOffset()) + 1,
        highWatermark: Number(batch.highWatermark),
      };
      try {
        await options.eachBatch(recordBatch, {
          heartbeat: () => payload.heartbeat(),
          isStale: () => stopping || failed || payload.isStale() || !payload.isRunning(),
          markProcessed: (nextOffset) => payload.resolveOffset(String(nextOffset - 1)),
        });
      } catch (error) {
        if (!isRetriable(error)) {
          fail(error);
          return;
        }
        // Unresolved records are fetched again: only unprocessed records come back.
        logger.warn({ err: error, partition }, 'batch failed with a retriable error; re-delivering');
        await sleep(retryDelayMs);
      }
    };

    const subscription: Subscription = {
      assignment: () => [...assigned],
      seek: (partition, offset) => consumer.seek({ topic, partition, offset: String(offset) }),
      pause: (partitions) =>
        consumer.pause([{ topic, ...(partitions ? { partitions: [...partitions] } : {}) }]),
      resume: (partitions) =>
        consumer.resume([{ topic, ...(partitions ? { partitions: [...partitions] } : {}) }]),
      stop: async () => {
        if (stopping) return;
        stopping = true;
        this.#subscriptions.delete(subscription);
        try {
          await consumer.disconnect();
        } finally {
          if (assigned.length > 0) await options.onRevoke?.(assigned);
          assigned = [];
        }
      },
    };

    await this.#wrap('connect consumer', () => consumer.connect());
    await this.#wrap('subscribe', () => consumer.subscribe({ topics: [topic], fromBeginning: true }));
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently:
        options.concurrency ?? this.#options.partitionsConsumedConcurrently ?? 1,
      eachBatch,
    });
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#subscriptions].map((s) => s.stop()));
    const producer = this.#producer;
    const admin = this.#admin;
    this.#producer = undefined;
    this.#admin = undefined;
    await Promise.allSettled([producer?.then((p) => p.disconnect()), admin?.then((a) => a.disconnect())]);
  }

  #getProducer(): Promise<Producer> {
    if (this.#producer === undefined) {
      const producer = this.#kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
      });
      this.#producer = this.#wrap('connect producer', () => producer.connect()).then(() => producer);
      this.#producer.catch(() => {
        this.#producer = undefined;
      });
    }
    return this.#producer;
  }

  #getAdmin(): Promise<Admin> {
    if (this.#admin === undefined) {
      const admin = this.#kafka.admin();
      this.#admin = this.#wrap('connect admin', () => admin.connect()).then(() => admin);
      this.#admin.catch(() => {
        this.#admin = undefined;
      });
    }
    return this.#admin;
  }

  /** Runs a kafkajs call; its failures become the catalogued, retriable LOG_UNAVAILABLE. */
  async #wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      throw new RecsysError('LOG_UNAVAILABLE', {
        message: `Kafka ${what} failed (brokers ${this.#options.brokers.join(',')}): ${(cause as Error).message}`,
        cause,
      });
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
