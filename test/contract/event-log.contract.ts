import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecsysError } from '../../shared/errors/index.ts';
import {
  DEAD_LETTER_HEADERS,
  type ConsumeOptions,
  type ConsumedRecord,
  type EventLog,
  type Subscription,
} from '../../shared/ports/index.ts';
import { partitionForKey } from '../../shared/adapters/memory/index.ts';
import { waitUntil } from '../support/wait.ts';

export interface EventLogFixture {
  /** An event log on fresh topics with 4 partitions. */
  readonly log: EventLog;
  /** Another client on the same topics (another process). */
  second(): Promise<EventLog>;
  /** A unique consumer group id. */
  group(): string;
  cleanup(): Promise<void>;
  /** How long group membership changes may take on this adapter. */
  readonly rebalanceMs: number;
}

const text = (value: Uint8Array): string => Buffer.from(value).toString('utf8');
const record = (key: string, body: string) => ({ key, value: Buffer.from(body) });

/** Collects everything a consumer receives, marking each batch processed. */
/** A key for each of the 4 partitions (the murmur2 partitioner both adapters use). */
const SENTINEL_KEYS = (() => {
  const byPartition = new Map<number, string>();
  for (let i = 0; byPartition.size < 4; i++) {
    const key = `sentinel-${i}`;
    if (!byPartition.has(partitionForKey(key, 4))) byPartition.set(partitionForKey(key, 4), key);
  }
  return [...byPartition.values()];
})();
const isSentinel = (value: Uint8Array) => text(value).startsWith('sentinel');

/**
 * Proves nothing more arrives for a partition (or all of them): a sentinel record appended after
 * the test's records comes after anything the log could still deliver there, so once every
 * sentinel has arrived, so has everything before it. A fixed sleep proved it only for a fast log.
 */
async function drained(
  log: EventLog,
  seen: () => readonly { value: Uint8Array }[],
  keys: readonly string[] = SENTINEL_KEYS,
): Promise<void> {
  await log.append(keys.map((key) => record(key, 'sentinel')));
  await waitUntil(
    () => seen().filter((r) => isSentinel(r.value)).length >= keys.length,
    'the sentinels behind the records',
    30_000,
  );
}

function collector() {
  const seen: ConsumedRecord[] = [];
  const options = (groupId: string, extra: Partial<ConsumeOptions> = {}): ConsumeOptions => ({
    groupId,
    eachBatch: async (batch, ctx) => {
      seen.push(...batch.records);
      ctx.markProcessed(batch.nextOffset);
    },
    ...extra,
  });
  return { seen, options };
}

/** The behaviour every EventLog adapter must have (run against memory and Kafka). */
export function describeEventLogContract(name: string, open: () => Promise<EventLogFixture>): void {
  describe(`EventLog contract: ${name}`, () => {
    let fixture: EventLogFixture;
    let log: EventLog;
    const subscriptions: Subscription[] = [];
    const logs: EventLog[] = [];

    beforeEach(async () => {
      fixture = await open();
      log = fixture.log;
      await log.ensureTopics();
    });

    afterEach(async () => {
      await Promise.allSettled(subscriptions.splice(0).map((s) => s.stop()));
      await Promise.allSettled(logs.splice(0).map((l) => l.close()));
      await log.close();
      await fixture.cleanup();
    });

    const consume = async (target: EventLog, options: ConsumeOptions): Promise<Subscription> => {
      const subscription = await target.consume(options);
      subscriptions.push(subscription);
      return subscription;
    };

    it('delivers every appended record once, in order per key, with the same partition per key', async () => {
      const records = Array.from({ length: 400 }, (_, i) => record(`user-${i % 37}`, `event-${i}`));
      await log.append(records);
      expect(await log.partitions()).toBe(4);
      const ends = await log.endOffsets();
      expect([...ends.values()].reduce((a, b) => a + b, 0)).toBe(400);

      const { seen, options } = collector();
      await consume(log, options(fixture.group()));
      await waitUntil(() => seen.length >= 400, 'all 400 records', 30_000);
      expect(seen.map((r) => text(r.value)).sort()).toEqual(records.map((r) => text(r.value)).sort());
      const partitionOfKey = new Map<string, number>();
      const lastIndexOfKey = new Map<string, number>();
      for (const r of seen) {
        const key = r.key as string;
        expect(partitionOfKey.get(key) ?? r.partition).toBe(r.partition);
        partitionOfKey.set(key, r.partition);
        const index = Number(text(r.value).slice('event-'.length));
        expect(index).toBeGreaterThan(lastIndexOfKey.get(key) ?? -1);
        lastIndexOfKey.set(key, index);
      }
      expect(new Set(partitionOfKey.values()).size).toBeGreaterThan(1);
    });

    it('splits partitions between the members of one group, each record going to one of them', async () => {
      const groupId = fixture.group();
      const a = collector();
      const b = collector();
      const other = await fixture.second();
      logs.push(other);
      const subA = await consume(log, a.options(groupId));
      const subB = await consume(other, b.options(groupId));
      await waitUntil(
        () =>
          subA.assignment().length > 0 &&
          subB.assignment().length > 0 &&
          subA.assignment().length + subB.assignment().length === 4,
        'both members to get partitions',
        fixture.rebalanceMs,
      );
      expect(subA.assignment().filter((p) => subB.assignment().includes(p))).toEqual([]);
      await log.append(Array.from({ length: 200 }, (_, i) => record(`k${i}`, `v${i}`)));
      await waitUntil(() => a.seen.length + b.seen.length >= 200, '200 records across members', 30_000);
      const all = [...a.seen, ...b.seen].map((r) => text(r.value));
      expect(new Set(all).size).toBe(200);
      expect(all).toHaveLength(200);
      expect(a.seen.length).toBeGreaterThan(0);
      expect(b.seen.length).toBeGreaterThan(0);
    });

    it('resumes a group from the offsets it marked processed', async () => {
      const groupId = fixture.group();
      await log.append(Array.from({ length: 50 }, (_, i) => record(`k${i}`, `first-${i}`)));
      const first = collector();
      const sub = await consume(log, first.options(groupId));
      await waitUntil(() => first.seen.length >= 50, 'first 50', 30_000);
      await sub.stop();
      await log.append(Array.from({ length: 30 }, (_, i) => record(`k${i}`, `second-${i}`)));
      const second = collector();
      await consume(log, second.options(groupId));
      await waitUntil(() => second.seen.length >= 30, 'next 30', 30_000);
      await drained(log, () => second.seen);
      const values = second.seen.map((r) => text(r.value)).filter((v) => v !== 'sentinel');
      expect(values.every((v) => v.startsWith('second-'))).toBe(true);
      expect(values).toHaveLength(30);
    });

    it('starts each assigned partition at the offset onAssign returns', async () => {
      // One key, so every record lands in one partition.
      await log.append(Array.from({ length: 20 }, (_, i) => record('one-user', `e${i}`)));
      const { seen, options } = collector();
      let assignedWith: readonly number[] = [];
      await consume(
        log,
        options(fixture.group(), {
          onAssign: async (partitions) => {
            assignedWith = partitions;
            return new Map(partitions.map((p) => [p, 15]));
          },
        }),
      );
      await waitUntil(() => seen.length >= 5, 'records from offset 15', 30_000);
      await drained(log, () => seen, ['one-user']);
      expect(seen.filter((r) => !isSentinel(r.value)).map((r) => r.offset)).toEqual([15, 16, 17, 18, 19]);
      expect([...assignedWith].sort()).toEqual([0, 1, 2, 3]);
    });

    it('moves a partition to the offset given to seek()', async () => {
      await log.append(Array.from({ length: 30 }, (_, i) => record('one-key', `e${i}`)));
      const offsets: number[] = [];
      let sought = false;
      const subscription = await consume(log, {
        groupId: fixture.group(),
        eachBatch: async (batch, ctx) => {
          for (const r of batch.records) {
            if (ctx.isStale()) return;
            offsets.push(r.offset);
            ctx.markProcessed(r.offset + 1);
            if (r.offset === 4 && !sought) {
              sought = true;
              subscription.seek(batch.partition, 20);
              return;
            }
          }
        },
      });
      await waitUntil(() => offsets.includes(29), 'the records after the seek', 30_000);
      // The sentinel lands at offset 30 of the same partition.
      await log.append([record('one-key', 'sentinel')]);
      await waitUntil(() => offsets.includes(30), 'the sentinel behind the records', 30_000);
      expect(offsets).toEqual([0, 1, 2, 3, 4, ...Array.from({ length: 11 }, (_, i) => 20 + i)]);
    });

    it('re-delivers only unprocessed records after a retriable error', async () => {
      await log.append(Array.from({ length: 10 }, (_, i) => record('same-key', `e${i}`)));
      const processed: number[] = [];
      let failures = 0;
      await consume(log, {
        groupId: fixture.group(),
        eachBatch: async (batch, ctx) => {
          for (const r of batch.records) {
            if (r.offset === 6 && failures === 0) {
              failures++;
              throw new RecsysError('STORE_UNAVAILABLE', { message: 'simulated outage' });
            }
            processed.push(r.offset);
            ctx.markProcessed(r.offset + 1);
          }
        },
      });
      await waitUntil(() => processed.length >= 10, 'all 10 processed', 30_000);
      await log.append([record('same-key', 'sentinel')]);
      await waitUntil(() => processed.includes(10), 'the sentinel behind the records', 30_000);
      expect(processed).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(failures).toBe(1);
    });

    it('stops a consumer and reports a non-retriable error instead of retrying it', async () => {
      await log.append([record('k', 'boom')]);
      let calls = 0;
      const errors: unknown[] = [];
      await consume(log, {
        groupId: fixture.group(),
        eachBatch: async () => {
          calls++;
          throw new TypeError('a bug, not an outage');
        },
        onError: (error) => errors.push(error),
      });
      await waitUntil(() => errors.length === 1, 'onError', 30_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(calls).toBe(1);
      expect(errors[0]).toBeInstanceOf(TypeError);
    });

    it('keeps dead letters with their original bytes, reason and source', async () => {
      const original = Buffer.from('{"userId": 42, "broken": tru');
      await log.deadLetter([
        {
          key: 'u1',
          value: original,
          reason: { code: 'MALFORMED_JSON', message: 'The event is not valid JSON.' },
          source: { partition: 2, offset: 17 },
        },
      ]);
      const { seen, options } = collector();
      await consume(log, options(fixture.group(), { topic: 'dead-letter' }));
      await waitUntil(() => seen.length >= 1, 'the dead letter', 30_000);
      const [dead] = seen;
      expect(Buffer.from(dead!.value).equals(original)).toBe(true);
      expect(dead!.key).toBe('u1');
      expect(dead!.headers[DEAD_LETTER_HEADERS.code]).toBe('MALFORMED_JSON');
      expect(dead!.headers[DEAD_LETTER_HEADERS.message]).toBe('The event is not valid JSON.');
      expect(dead!.headers[DEAD_LETTER_HEADERS.sourcePartition]).toBe('2');
      expect(dead!.headers[DEAD_LETTER_HEADERS.sourceOffset]).toBe('17');
      const ends = await log.endOffsets('events');
      expect([...ends.values()].reduce((a, b) => a + b, 0)).toBe(0);
    });

    it('gives every group its own copy of the stream', async () => {
      await log.append(Array.from({ length: 25 }, (_, i) => record(`k${i}`, `v${i}`)));
      const one = collector();
      const two = collector();
      await consume(log, one.options(fixture.group()));
      await consume(log, two.options(fixture.group()));
      await waitUntil(() => one.seen.length >= 25 && two.seen.length >= 25, 'both groups', 30_000);
      expect(one.seen).toHaveLength(25);
      expect(two.seen).toHaveLength(25);
    });

    it('answers ping', async () => {
      expect(await log.ping()).toBe(true);
    });
  });
}
