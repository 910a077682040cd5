import { Random } from '../../shared/model/random.ts';
import type { EventLog, LogRecord, ModelStore } from '../../shared/ports/index.ts';
import { waitUntil } from './wait.ts';

export interface Workload {
  /** Valid events produced, per user. */
  readonly perUser: Map<string, number>;
  readonly valid: number;
  /** Positive (weight > 0) events. */
  readonly positives: number;
  readonly poison: number;
  readonly records: number;
}

const POISON = [
  () => Buffer.from('{"userId": "u1", "itemId": '),
  () => Buffer.from(JSON.stringify({ userId: 42, itemId: 'i1', type: 'click' })),
  () => Buffer.from(JSON.stringify({ userId: 'u1', itemId: 'i1', type: 'click', extra: 'x'.repeat(20_000) })),
  () => Buffer.from('{"userId":"u1","itemId":"i1","type":"click","__proto__":{"admin":true}}'),
  () => Buffer.from(JSON.stringify({ userId: 'u1', itemId: 'i1', type: 'teleport' })),
  () => Buffer.from([0xff, 0xfe, 0x00]),
];

/**
 * Produces `count` seeded events (clicks, likes, views, some dislikes) for `users` users and
 * `items` items, each with an event id, keyed by user; optionally a poison record every
 * `poisonEvery` events. Returns what a correct trainer must end up with.
 */
export async function produceWorkload(
  log: EventLog,
  options: {
    count: number;
    users: number;
    items: number;
    seed: number;
    poisonEvery?: number;
    chunk?: number;
  },
): Promise<Workload> {
  const random = new Random(options.seed);
  const perUser = new Map<string, number>();
  let positives = 0;
  let poison = 0;
  let records: LogRecord[] = [];
  let total = 0;
  const flush = async () => {
    if (records.length === 0) return;
    await log.append(records);
    total += records.length;
    records = [];
  };
  for (let i = 0; i < options.count; i++) {
    const user = `u${Math.floor(random.next() ** 2 * options.users)}`;
    const item = `i${Math.floor(random.next() ** 2 * options.items)}`;
    const r = random.next();
    const type = r < 0.7 ? 'click' : r < 0.85 ? 'view' : r < 0.95 ? 'like' : 'dislike';
    if (type !== 'dislike') positives++;
    perUser.set(user, (perUser.get(user) ?? 0) + 1);
    const event = {
      eventId: `e${i}`,
      userId: user,
      itemId: item,
      type,
      timestamp: 1_764_000_000_000 + i * 1_000,
      context: { device: r < 0.5 ? 'mobile' : 'desktop' },
    };
    records.push({ key: user, value: Buffer.from(JSON.stringify(event)) });
    if (options.poisonEvery !== undefined && i % options.poisonEvery === options.poisonEvery - 1) {
      records.push({ key: user, value: (POISON[poison % POISON.length] as () => Buffer)() });
      poison++;
    }
    if (records.length >= (options.chunk ?? 10_000)) await flush();
  }
  await flush();
  return { perUser, valid: options.count, positives, poison, records: total };
}

/** Waits until a consumer group's stored offsets reach the end of every partition. */
export async function waitForGroup(
  log: EventLog,
  store: ModelStore,
  groupId: string,
  timeoutMs: number,
): Promise<void> {
  const ends = await log.endOffsets();
  await waitUntil(
    async () => {
      const stored = await store.getOffsets(groupId).catch(() => new Map<number, number>());
      return [...ends].every(([p, end]) => end === 0 || stored.get(p) === end);
    },
    `group ${groupId} to consume everything`,
    timeoutMs,
    200,
  );
}

/**
 * How the store's exact counters (trainer.auditEventIds) match a workload: users whose event
 * count is wrong, event ids never applied, event ids applied more than once. A correct,
 * effectively-once trainer gives `{ wrongCounts: [], missing: 0, duplicated: 0 }`.
 */
export async function appliedTally(
  store: ModelStore,
  workload: Workload,
  model = 'mf',
): Promise<{ wrongCounts: string[]; missing: number; duplicated: number }> {
  const users = [...workload.perUser.keys()];
  const counts = await store.getCounters(`events:${model}`, users);
  const applied = await store.getCounters(
    `applied:${model}`,
    Array.from({ length: workload.valid }, (_, i) => `e${i}`),
  );
  return {
    wrongCounts: users.filter((u, i) => counts[i] !== workload.perUser.get(u)),
    missing: applied.filter((v) => v === 0).length,
    duplicated: applied.filter((v) => v > 1).length,
  };
}
