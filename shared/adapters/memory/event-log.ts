import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRetriable } from '../../errors/index.ts';
import {
  deadLetterHeaders,
  type ConsumeOptions,
  type ConsumedRecord,
  type DeadLetterRecord,
  type EventLog,
  type LogRecord,
  type LogTopic,
  type Subscription,
} from '../../ports/index.ts';
import { partitionForKey } from './partitioner.ts';
import { MemoryGroup, type GroupMember } from './group.ts';

export interface MemoryEventLogOptions {
  readonly partitions: number;
  /** Folder to persist records and group offsets in; in memory only when omitted. */
  readonly dataDir?: string;
  /** Largest batch handed to a consumer. */
  readonly maxBatchSize?: number;
  /** Pause before re-delivering after a retriable error in eachBatch. */
  readonly retryDelayMs?: number;
}

interface StoredRecord {
  readonly key: string | null;
  readonly value: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: number;
}

interface Topic {
  readonly name: LogTopic;
  readonly partitions: StoredRecord[][];
}

type ResolvedOptions = Required<Omit<MemoryEventLogOptions, 'dataDir'>> & { dataDir: string | undefined };

/** What every handle on one embedded log shares: the records, the groups and the wake-up list. */
interface Core {
  readonly topics: Map<LogTopic, Topic>;
  readonly groups: Map<string, MemoryGroup>;
  readonly options: ResolvedOptions;
  readonly waiters: Set<() => void>;
}

/**
 * The embedded event log: partitioned, append-only, with consumer groups that split partitions
 * among members and keep committed offsets, like Kafka. With a data folder, every append is
 * written to a JSON-lines file per topic and partition, and group offsets to groups.json.
 */
export class MemoryEventLog implements EventLog {
  readonly kind = 'memory' as const;
  readonly #core: Core;
  readonly #topics: Map<LogTopic, Topic>;
  readonly #groups: Map<string, MemoryGroup>;
  readonly #options: ResolvedOptions;
  readonly #waiters: Set<() => void>;
  readonly #subscriptions = new Set<Subscription>();
  #closed = false;

  constructor(options: MemoryEventLogOptions | { readonly core: Core }) {
    if ('core' in options) {
      this.#core = options.core;
    } else {
      const resolved: ResolvedOptions = {
        partitions: options.partitions,
        dataDir: options.dataDir,
        maxBatchSize: options.maxBatchSize ?? 500,
        retryDelayMs: options.retryDelayMs ?? 100,
      };
      const topics = new Map<LogTopic, Topic>(
        (['events', 'dead-letter'] as const).map((name) => [
          name,
          { name, partitions: Array.from({ length: name === 'events' ? options.partitions : 1 }, () => []) },
        ]),
      );
      this.#core = { topics, groups: new Map(), options: resolved, waiters: new Set() };
    }
    this.#topics = this.#core.topics;
    this.#groups = this.#core.groups;
    this.#options = this.#core.options;
    this.#waiters = this.#core.waiters;
    if (!('core' in options) && this.#options.dataDir !== undefined) this.#load(this.#options.dataDir);
  }

  /** Another handle on the same log, as a second process would have on Kafka. */
  connectAnother(): MemoryEventLog {
    return new MemoryEventLog({ core: this.#core });
  }

  async partitions(): Promise<number> {
    return this.#options.partitions;
  }

  async ensureTopics(): Promise<void> {}

  async append(records: readonly LogRecord[]): Promise<void> {
    this.#assertOpen();
    const now = Date.now();
    this.#write(
      'events',
      records.map((record) => ({
        partition: partitionForKey(record.key, this.#options.partitions),
        record: {
          key: record.key,
          value: record.value,
          headers: record.headers ?? {},
          timestamp: record.timestamp ?? now,
        },
      })),
    );
  }

  async deadLetter(records: readonly DeadLetterRecord[]): Promise<void> {
    this.#assertOpen();
    const now = Date.now();
    this.#write(
      'dead-letter',
      records.map((record) => ({
        partition: 0,
        record: {
          key: record.key,
          value: record.value,
          headers: deadLetterHeaders(record),
          timestamp: now,
        },
      })),
    );
  }

  async endOffsets(topic: LogTopic = 'events'): Promise<ReadonlyMap<number, number>> {
    const partitions = this.#topic(topic).partitions;
    return new Map(partitions.map((records, partition) => [partition, records.length]));
  }

  async ping(): Promise<boolean> {
    return !this.#closed;
  }

  async consume(options: ConsumeOptions): Promise<Subscription> {
    this.#assertOpen();
    const topic = this.#topic(options.topic ?? 'events');
    const groupKey = `${topic.name}\u0000${options.groupId}`;
    let group = this.#groups.get(groupKey);
    if (group === undefined) {
      group = new MemoryGroup(topic.partitions.length, this.#savedOffsets(topic.name, options.groupId));
      this.#groups.set(groupKey, group);
    }
    const member = group.join();
    const loop = this.#run(topic, group, member, options).catch(() => undefined);
    const subscription: Subscription = {
      assignment: () => [...member.assigned],
      seek: (partition, offset) => {
        member.seeks.set(partition, offset);
        this.#wake();
      },
      pause: (partitions) => {
        for (const p of partitions ?? [...Array(topic.partitions.length).keys()]) member.paused.add(p);
      },
      resume: (partitions) => {
        if (partitions === undefined) member.paused.clear();
        else for (const p of partitions) member.paused.delete(p);
        this.#wake();
      },
      stop: async () => {
        this.#subscriptions.delete(subscription);
        if (member.stopped) return;
        member.stopped = true;
        this.#wake();
        await loop;
      },
    };
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await Promise.allSettled([...this.#subscriptions].map((s) => s.stop()));
    this.#closed = true;
    this.#wake();
    this.#persistGroups();
  }

  async #run(topic: Topic, group: MemoryGroup, member: GroupMember, options: ConsumeOptions): Promise<void> {
    const positions = new Map<number, number>();
    let generation = -1;
    try {
      while (!member.stopped && !this.#closed) {
        if (generation !== group.generation) {
          generation = group.generation;
          const previous = [...positions.keys()];
          const next = group.assignmentOf(member);
          const revoked = previous.filter((p) => !next.includes(p));
          const added = next.filter((p) => !positions.has(p));
          for (const p of revoked) positions.delete(p);
          if (revoked.length > 0) await options.onRevoke?.(revoked);
          member.assigned = next;
          if (added.length > 0) {
            const starts = (await options.onAssign?.(added)) ?? new Map<number, number>();
            for (const p of added) positions.set(p, starts.get(p) ?? group.committed.get(p) ?? 0);
          }
          continue;
        }
        let delivered = false;
        for (const partition of member.assigned) {
          if (member.stopped || generation !== group.generation) break;
          if (member.paused.has(partition) || !group.acquire(partition, member)) continue;
          try {
            delivered =
              (await this.#deliver(topic, group, partition, positions, options, member, generation)) ||
              delivered;
          } finally {
            group.release(partition, member);
          }
        }
        if (!delivered) await this.#waitForRecords(50);
        await yieldToEventLoop();
      }
    } finally {
      const held = [...positions.keys()];
      if (held.length > 0) await options.onRevoke?.(held);
      group.leave(member);
      this.#persistGroups();
      this.#wake();
    }
  }

  /** Hands one batch of a partition to the consumer; true when records were delivered. */
  async #deliver(
    topic: Topic,
    group: MemoryGroup,
    partition: number,
    positions: Map<number, number>,
    options: ConsumeOptions,
    member: GroupMember,
    generation: number,
  ): Promise<boolean> {
    const log = topic.partitions[partition] as StoredRecord[];
    const sought = member.seeks.get(partition);
    if (sought !== undefined) {
      member.seeks.delete(partition);
      if (positions.has(partition)) positions.set(partition, sought);
    }
    const position = positions.get(partition) ?? 0;
    if (position >= log.length) return false;
    const end = Math.min(log.length, position + this.#options.maxBatchSize);
    const records: ConsumedRecord[] = [];
    for (let offset = position; offset < end; offset++) {
      const stored = log[offset] as StoredRecord;
      records.push({ ...stored, partition, offset });
    }
    let marked = -1;
    try {
      await options.eachBatch(
        {
          topic: topic.name,
          partition,
          records,
          firstOffset: position,
          nextOffset: end,
          highWatermark: log.length,
        },
        {
          heartbeat: async () => {},
          isStale: () =>
            member.stopped || this.#closed || generation !== group.generation || member.seeks.has(partition),
          markProcessed: (nextOffset) => {
            marked = Math.max(marked, nextOffset);
          },
        },
      );
      if (marked >= 0) group.commit(partition, marked);
      if (positions.has(partition) && !member.seeks.has(partition)) positions.set(partition, end);
    } catch (error) {
      // Only unprocessed records come back: continue from what was marked.
      if (marked >= 0) group.commit(partition, marked);
      if (positions.has(partition)) positions.set(partition, marked >= 0 ? marked : position);
      if (!isRetriable(error)) {
        member.stopped = true;
        options.onError?.(error);
        return true;
      }
      await sleep(this.#options.retryDelayMs);
    }
    return true;
  }

  #write(topicName: LogTopic, entries: readonly { partition: number; record: StoredRecord }[]): void {
    const topic = this.#topic(topicName);
    const lines = new Map<number, string[]>();
    for (const { partition, record } of entries) {
      (topic.partitions[partition] as StoredRecord[]).push(record);
      if (this.#options.dataDir !== undefined) {
        let list = lines.get(partition);
        if (list === undefined) lines.set(partition, (list = []));
        list.push(serialize(record));
      }
    }
    for (const [partition, list] of lines) {
      appendFileSync(this.#file(topicName, partition), `${list.join('\n')}\n`);
    }
    this.#wake();
  }

  #topic(name: LogTopic): Topic {
    return this.#topics.get(name) as Topic;
  }

  #file(topic: LogTopic, partition: number): string {
    return join(this.#options.dataDir as string, `${topic}-${partition}.jsonl`);
  }

  #load(dir: string): void {
    mkdirSync(dir, { recursive: true });
    for (const topic of this.#topics.values()) {
      topic.partitions.forEach((records, partition) => {
        const file = this.#file(topic.name, partition);
        if (!existsSync(file)) return;
        for (const line of readFileSync(file, 'utf8').split('\n')) {
          if (line !== '') records.push(deserialize(line));
        }
      });
    }
  }

  #savedOffsets(topic: LogTopic, groupId: string): Map<number, number> {
    const dir = this.#options.dataDir;
    if (dir === undefined || !existsSync(join(dir, 'groups.json'))) return new Map();
    const saved = JSON.parse(readFileSync(join(dir, 'groups.json'), 'utf8')) as Record<
      string,
      Record<string, number>
    >;
    return new Map(Object.entries(saved[`${topic}/${groupId}`] ?? {}).map(([p, o]) => [Number(p), o]));
  }

  #persistGroups(): void {
    const dir = this.#options.dataDir;
    if (dir === undefined) return;
    const out: Record<string, Record<string, number>> = {};
    for (const [key, group] of this.#groups) {
      out[key.replace('\u0000', '/')] = Object.fromEntries(group.committed);
    }
    writeFileSync(join(dir, 'groups.json'), JSON.stringify(out));
  }

  #waitForRecords(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('MemoryEventLog is closed');
  }
}

function serialize(record: StoredRecord): string {
  return JSON.stringify({
    k: record.key,
    v: Buffer.from(record.value).toString('base64'),
    h: record.headers,
    t: record.timestamp,
  });
}

function deserialize(line: string): StoredRecord {
  const raw = JSON.parse(line) as { k: string | null; v: string; h: Record<string, string>; t: number };
  return {
    key: raw.k,
    value: new Uint8Array(Buffer.from(raw.v, 'base64')),
    headers: raw.h,
    timestamp: raw.t,
  };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
