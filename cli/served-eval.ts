import { ServingEngine } from '../services/serving/engine.ts';
import { createServingMetrics } from '../services/serving/process/metrics.ts';
import { SOURCES, type Source } from '../services/serving/ranking/blend.ts';
import { startTrainer } from '../services/trainer/trainer.ts';
import { MemoryEventLog, MemoryModelStore } from '../shared/adapters/memory/index.ts';
import type { RecsysConfig } from '../shared/config/index.ts';
import { DEMO_DEVICES, type DemoWorld } from '../shared/demo/world.ts';
import { hitRate, ndcgSingle } from '../shared/evaluation/metrics.ts';
import { Random } from '../shared/model/random.ts';
import { createMetricsRegistry, silentLogger } from '../shared/observability/index.ts';
import {
  createEventCodec,
  eventTimeMs,
  type InteractionEvent,
  type ItemRecord,
  type UserRecord,
} from '../shared/schemas/index.ts';

/** A data set as users publish it: catalog records and events in time order. */
export interface EventDataset {
  readonly name: string;
  readonly events: readonly InteractionEvent[];
  readonly items: readonly ItemRecord[];
  readonly users: readonly UserRecord[];
}

export interface ServedEvalOptions {
  readonly config: RecsysConfig;
  readonly data: EventDataset;
  /** List length (HR@k, NDCG@k, MRR@k). */
  readonly k?: number;
  /**
   * How far behind the stream serving may be, in stream time (default 1,000 ms, about what the
   * trainer's flush and serving's refresh add up to live): events are requested, then learnt, in
   * blocks whose events lie within this of the block's first event, so every event older than
   * this has been learnt when an event is requested.
   */
  readonly freshnessMs?: number;
  /** At most this many events per block (default 100). */
  readonly block?: number;
  /** Share of positive events that are requested before they are learnt (0-1]. */
  readonly sample?: number;
  /** false: context stripped from events and requests (the no-context run). */
  readonly context?: boolean;
  readonly seed?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface ServedEvalResult {
  readonly evaluated: number;
  readonly metrics: {
    readonly hr: number;
    readonly ndcg: number;
    readonly mrr: number;
    readonly coverage: number;
    readonly diversity: number;
    readonly novelty: number;
  };
  /** Share of each source among the served items. */
  readonly sources: Readonly<Record<Source, number>>;
  readonly eventsPerSecond: number;
  readonly seconds: number;
  /** The trained stack, for questions asked after the replay (see contextShares); call close(). */
  readonly served: ServedStack;
}

export interface ServedStack {
  recommend(userId: string, k: number, context?: InteractionEvent['context'], at?: number): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The served pipeline, evaluated prequentially: the data set is replayed in time order through
 * the real trainer (its consumer group, batches and commits, on the embedded log and store) and
 * the real serving Recommender (the blend of every source, the rules and the seen filter, as
 * `POST /v1/recommendations` answers), one process. Before a block of events is learnt, the top k
 * for each sampled positive event is requested as that user, in that event's context, at that
 * event's time; the event's item is scored against the list. Then the block is published, the
 * trainer learns it and serving catches up. A block holds the events within `freshnessMs` of
 * stream time of its first one (at most `block` events): what a live service has not learnt yet
 * when the next event arrives. A hit is an item the served list held before its event was learnt.
 *
 * Metrics: HR@k, NDCG@k and MRR@k of the event's item in the served list; catalog coverage
 * (distinct items served / catalog); intra-list diversity (distinct categories / items listed);
 * novelty (mean -log2 of the share of users who had touched a listed item, +1 smoothed).
 */
export async function evaluateServed(options: ServedEvalOptions): Promise<ServedEvalResult> {
  const { config, data } = options;
  const k = options.k ?? 10;
  const maxBlock = options.block ?? 100;
  const freshness = options.freshnessMs ?? 1_000;
  const sample = options.sample ?? 1;
  const withContext = options.context ?? true;
  const store = new MemoryModelStore();
  const log = new MemoryEventLog({ partitions: 1 });
  await store.putItems(data.items.map((record) => ({ id: record.itemId, record })));
  await store.putUsers(data.users.map((record) => ({ id: record.userId, record })));
  const categories = new Map(data.items.map((item) => [item.itemId, item.categories?.[0]]));
  const codec = createEventCodec({ types: config.events.types, maxBytes: config.events.maxBytes });
  const first = data.events[0];
  let streamNow = first === undefined ? Date.now() : eventTimeMs(first, Date.now());
  const registry = createMetricsRegistry({ service: 'eval', defaultMetrics: false });
  const trainer = await startTrainer({
    config,
    eventLog: log,
    store,
    registry,
    logger: silentLogger(),
    http: false,
  });
  const engine = new ServingEngine({
    config,
    store,
    logger: silentLogger(),
    metrics: createServingMetrics(createMetricsRegistry({ service: 'serving', defaultMetrics: false })),
    clock: () => streamNow,
  });
  await engine.refreshOnce();
  const groups = config.trainer.models.map((model) => `${config.trainer.groupPrefix}-${model}`);
  const recommend = async (userId: string, n: number, context?: InteractionEvent['context'], at?: number) => {
    if (at !== undefined) streamNow = at;
    const answer = await engine.recommender.recommend({
      userId,
      k: n,
      offset: 0,
      filterSeen: true,
      ...(context === undefined ? {} : { context }),
    });
    return answer.items;
  };
  const served: ServedStack = {
    recommend: async (userId, n, context, at) =>
      (await recommend(userId, n, context, at)).map((item) => item.itemId),
    async close() {
      await engine.stop();
      await trainer.stop();
      await log.close();
      await store.close();
    },
  };

  const random = new Random(options.seed ?? 1);
  const positive = (e: InteractionEvent) => (config.events.types[e.type]?.weight ?? 0) > 0;
  const usersOf = new Map<string, Set<string>>();
  const shown = new Set<string>();
  const sourceCounts = new Map<Source, number>(SOURCES.map((s) => [s, 0]));
  let listed = 0;
  let evaluated = 0;
  let hits = 0;
  let ndcg = 0;
  let mrr = 0;
  let diversity = 0;
  let novelty = 0;
  let appended = 0;
  const started = performance.now();
  try {
    for (let start = 0; start < data.events.length;) {
      const opens = eventTimeMs(data.events[start] as InteractionEvent, streamNow);
      // A block ends before a user's second event in it: a user's own earlier events are always
      // learnt before their next request (serving reads the user's state per request, and the
      // trainer writes within a fraction of a second), other users' only after `freshness`.
      const users = new Set([(data.events[start] as InteractionEvent).userId]);
      let end = start + 1;
      while (
        end < data.events.length &&
        end - start < maxBlock &&
        !users.has((data.events[end] as InteractionEvent).userId) &&
        eventTimeMs(data.events[end] as InteractionEvent, opens) - opens < freshness
      )
        users.add((data.events[end++] as InteractionEvent).userId);
      const events = data.events.slice(start, end).map((e) => (withContext ? e : stripContext(e)));
      start = end;
      for (const e of events) {
        if (!positive(e) || random.next() >= sample) continue;
        const items = await recommend(e.userId, k, e.context, eventTimeMs(e, streamNow));
        const rank = items.findIndex((item) => item.itemId === e.itemId);
        const at = rank < 0 ? Number.POSITIVE_INFINITY : rank;
        evaluated++;
        hits += hitRate(at, k);
        ndcg += ndcgSingle(at, k);
        mrr += rank < 0 ? 0 : 1 / (rank + 1);
        const seenCategories = new Set<string>();
        for (const item of items) {
          shown.add(item.itemId);
          sourceCounts.set(item.source, (sourceCounts.get(item.source) ?? 0) + 1);
          const category = categories.get(item.itemId);
          if (category !== undefined) seenCategories.add(category);
          const touched = usersOf.get(item.itemId)?.size ?? 0;
          novelty -= Math.log2((touched + 1) / (usersOf.size + 1 + data.users.length));
        }
        listed += items.length;
        diversity += items.length === 0 ? 0 : seenCategories.size / items.length;
      }
      for (const e of events) {
        if (!positive(e)) continue;
        let set = usersOf.get(e.itemId);
        if (set === undefined) usersOf.set(e.itemId, (set = new Set()));
        set.add(e.userId);
      }
      await log.append(
        events.map((event) => ({
          key: event.userId,
          value: codec.encode(event),
          timestamp: eventTimeMs(event, streamNow),
        })),
      );
      appended += events.length;
      const last = events.at(-1);
      if (last !== undefined) streamNow = eventTimeMs(last, streamNow);
      await caughtUp(store, groups, appended);
      await engine.syncNow();
      options.onProgress?.(appended, data.events.length);
    }
  } catch (error) {
    await served.close();
    throw error;
  }
  const seconds = (performance.now() - started) / 1000;
  const catalog = new Set([...data.items.map((item) => item.itemId), ...data.events.map((e) => e.itemId)]);
  const per = (v: number) => (evaluated === 0 ? 0 : v / evaluated);
  return {
    evaluated,
    metrics: {
      hr: per(hits),
      ndcg: per(ndcg),
      mrr: per(mrr),
      coverage: catalog.size === 0 ? 0 : shown.size / catalog.size,
      diversity: per(diversity),
      novelty: listed === 0 ? 0 : novelty / listed,
    },
    sources: Object.fromEntries(
      SOURCES.map((s) => [s, listed === 0 ? 0 : (sourceCounts.get(s) ?? 0) / listed]),
    ) as Record<Source, number>,
    eventsPerSecond: data.events.length / seconds,
    seconds,
    served,
  };
}

function stripContext(event: InteractionEvent): InteractionEvent {
  const { context: _context, ...rest } = event;
  return rest;
}

/** Resolves once every group has committed `count` records (the log has one partition). */
async function caughtUp(store: MemoryModelStore, groups: readonly string[], count: number): Promise<void> {
  const deadline = performance.now() + 300_000;
  for (let attempt = 0; ; attempt++) {
    let behind = false;
    for (const group of groups) if (((await store.getOffsets(group)).get(0) ?? 0) < count) behind = true;
    if (!behind) return;
    if (performance.now() > deadline)
      throw new Error(`the trainer did not learn the first ${count} events within 5 minutes`);
    await new Promise((resolve) => (attempt < 1_000 ? setImmediate(resolve) : setTimeout(resolve, 1)));
  }
}

/** The demo world's context bars: on each device, the user's genre for it and the other one's. */
export interface ContextShares {
  readonly mobile: { readonly own: number; readonly other: number };
  readonly desktop: { readonly own: number; readonly other: number };
}

/**
 * After a replay of the demo world: every persona's top k on mobile at 21:00 and on desktop at
 * 14:00 (the hours each device is used in the world), and the share of the listed items in the
 * genre the persona picks on that device (`own`) and on the other one (`other`).
 */
export async function demoContextShares(
  world: Pick<DemoWorld, 'personas' | 'genreOf' | 'events'>,
  served: ServedStack,
  k = 10,
): Promise<ContextShares> {
  const last = world.events.at(-1);
  const day = new Date(last === undefined ? Date.now() : eventTimeMs(last, Date.now()));
  day.setUTCHours(0, 0, 0, 0);
  const sums = { mobile: { own: 0, other: 0 }, desktop: { own: 0, other: 0 } };
  for (const persona of world.personas) {
    for (const device of DEMO_DEVICES) {
      const hour = device === 'mobile' ? 21 : 14;
      const other = device === 'mobile' ? 'desktop' : 'mobile';
      const items = await served.recommend(
        persona.userId,
        k,
        { device, hour },
        day.getTime() + hour * 3_600_000,
      );
      for (const item of items) {
        const genre = world.genreOf(item);
        if (genre === persona.taste[device]) sums[device].own++;
        if (genre === persona.taste[other]) sums[device].other++;
      }
    }
  }
  const n = Math.max(1, world.personas.length * k);
  return {
    mobile: { own: sums.mobile.own / n, other: sums.mobile.other / n },
    desktop: { own: sums.desktop.own / n, other: sums.desktop.other / n },
  };
}
