import { logAdd2, popularityLogScore } from '../../shared/model/popularity.ts';
import { existsSync } from 'node:fs';
import { QUALITY_COUNTER, QUALITY_HIT_RANK, qualityFields } from '../../shared/model/quality.ts';
import type { RecsysConfig } from '../../shared/config/index.ts';
import { isRecsysError, isRetriable } from '../../shared/errors/index.ts';
import { ContextEncoder } from '../../shared/model/context.ts';
import type { Logger } from '../../shared/observability/index.ts';
import type {
  BatchContext,
  CommitBatch,
  CounterIncrement,
  DeadLetterRecord,
  EventLog,
  HistoryAppend,
  ModelStore,
  OffsetAdvance,
  PopularityIncrement,
  RecordBatch,
  Subscription,
} from '../../shared/ports/index.ts';
import type { EventCodec } from '../../shared/schemas/index.ts';
import { WindowedCap } from '../../shared/model/windowed-cap.ts';
import { decodeBatch, type BatchEvent } from './decode.ts';
import { PrequentialWindow, type TrainerMetrics } from './metrics.ts';
import type { ModelTrainer, Prefetched, TrainStats } from './model-trainer.ts';

/** Per-user event counters of a model: `events:<model>` -> userId -> count. */
export const eventCounter = (model: string): string => `events:${model}`;

export interface GroupWorkerDeps {
  readonly config: RecsysConfig;
  readonly eventLog: EventLog;
  readonly store: ModelStore;
  readonly codec: EventCodec;
  readonly metrics: TrainerMetrics;
  readonly logger: Logger;
  readonly trainer: ModelTrainer;
  /** The first model also writes what serving reads: histories and popularity. */
  readonly primary: boolean;
  /** Called when the consumer stopped on a non-retriable error. */
  readonly onFatal: (error: unknown) => void;
  readonly now?: () => number;
}

/** A batch trained but not written yet. */
interface Pending {
  readonly advance: OffsetAdvance;
  readonly events: readonly BatchEvent[];
  readonly dead: readonly DeadLetterRecord[];
  readonly stats: TrainStats;
  readonly records: number;
}

/**
 * One model's consumer group: batches in, atomic writes out.
 *
 * Each batch is decoded (bad records go to the dead-letter topic with their bytes and reason) and
 * trained into the local rows at once. Trained batches are then written together (a group commit,
 * at most every `trainer.flushMs` or `trainer.flushRecords` records): their rows, counters,
 * serving data and every batch's offset advance in one compare-and-set (ModelStore.commit), so
 * hot rows touched by many batches are written once.
 *
 * A fenced write (a batch does not start at the stored offset: another consumer owns the
 * partition, or Redis lost writes) changes nothing; the local cache is emptied and the partitions
 * continue from the stored offsets. A failed write (Redis down) is retried from the same records
 * after a pause that doubles each time (partitions paused meanwhile); nothing is dead-lettered
 * for it. Kafka's own offsets are only marked for lag monitoring: the store's are the truth.
 */
export class GroupWorker {
  readonly groupId: string;
  readonly #deps: GroupWorkerDeps;
  readonly #log: Logger;
  readonly #window = new PrequentialWindow();
  readonly #context: ContextEncoder;
  #subscription: Subscription | undefined;
  #pending: Pending[] = [];
  #pendingSince = 0;
  #pendingRecords = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The write in flight (training goes on meanwhile); resolves true when it went through. */
  #inflight: Promise<boolean> | undefined;
  /** True from the start of a write until its answer (#inflight stays set until awaited). */
  #writing = false;
  #lastTick = 0;
  #busy: Promise<void> = Promise.resolve();
  #healthy = true;
  #writes = 0;
  /** Consecutive infrastructure failures: the pause before the next try doubles with each. */
  #failures = 0;
  /** Per-partition cap on events per user per minute of event time (trainer.userEventsPerMinute). */
  readonly #caps = new Map<number, WindowedCap>();

  constructor(deps: GroupWorkerDeps) {
    this.#deps = deps;
    this.groupId = `${deps.config.trainer.groupPrefix}-${deps.trainer.name}`;
    this.#log = deps.logger.child({ component: 'trainer', model: deps.trainer.name, groupId: this.groupId });
    this.#context = new ContextEncoder({ fields: deps.config.model.context.fields });
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** Atomic writes done so far. */
  get batches(): number {
    return this.#writes;
  }

  assignment(): readonly number[] {
    return this.#subscription?.assignment() ?? [];
  }

  async start(): Promise<void> {
    const { eventLog, store, trainer } = this.#deps;
    this.#subscription = await eventLog.consume({
      groupId: this.groupId,
      onAssign: (partitions) =>
        this.#serialize(async () => {
          // Batches trained for partitions we may no longer own: write them now or never.
          await this.#flush();
          await this.#settle();
          await trainer.onAssign();
          this.#caps.clear(); // the partitions continue from the stored offsets: count afresh
          const stored = await store.getOffsets(this.groupId);
          this.#log.info(
            { partitions, stored: Object.fromEntries(stored) },
            'partitions assigned; continuing from the stored offsets',
          );
          // A partition with no stored offset has had nothing applied: it starts at the beginning
          // of the log (Kafka's committed offset may already be ahead: it is marked before the write).
          return new Map(partitions.map((p) => [p, stored.get(p) ?? 0]));
        }),
      onRevoke: (partitions) => {
        this.#log.info({ partitions }, 'partitions revoked');
      },
      eachBatch: (batch, context) => this.#receive(batch, context),
      concurrency: this.#deps.config.trainer.prefetchBatches,
      onError: (error) => {
        this.#healthy = false;
        this.#log.error({ err: error }, 'consumer stopped by a non-retriable error');
        this.#deps.onFatal(error);
      },
    });
    const flushMs = this.#deps.config.trainer.flushMs;
    this.#timer = setInterval(
      () => {
        if (this.#pending.length > 0 && this.#now() - this.#pendingSince >= flushMs)
          void this.#serialize(() => this.#flush());
      },
      Math.max(10, Math.floor(flushMs / 2)),
    );
  }

  /** Writes what was trained, leaves the group. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#subscription?.pause();
    await this.#serialize(async () => {
      await this.#flush();
      await this.#settle();
    });
    await this.#subscription?.stop();
    await this.#serialize(async () => {
      await this.#flush();
      await this.#settle();
    });
  }

  #now(): number {
    return (this.#deps.now ?? Date.now)();
  }

  /** One thing at a time per model: batches, writes and assignments never interleave. */
  #serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(fn, fn);
    this.#busy = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * A batch from the log: decoded and its reads started at once, trained in turn (batches of
   * other partitions may be training meanwhile: their reads overlap with that training).
   */
  #receive(batch: RecordBatch, context: BatchContext): Promise<void> {
    if (context.isStale()) return Promise.resolve();
    const { config, codec, trainer } = this.#deps;
    const decoded = decodeBatch(batch, codec, config.events.types);
    const prefetched = trainer.prefetch?.(decoded.events);
    // A batch may wait its turn (and a write) for a while: keep the group membership alive
    // meanwhile, so a long wait is not taken for a dead consumer. A failed heartbeat (a rebalance
    // under way) is not an error here: the batch ends stale and its write is fenced if need be.
    const heartbeats = setInterval(() => {
      context.heartbeat().catch(() => undefined);
    }, config.kafka.heartbeatIntervalMs);
    return this.#serialize(() => this.#train(batch, context, decoded, prefetched)).finally(() =>
      clearInterval(heartbeats),
    );
  }

  async #train(
    batch: RecordBatch,
    context: BatchContext,
    decoded: ReturnType<typeof decodeBatch>,
    prefetched: Prefetched | undefined,
  ): Promise<void> {
    if (context.isStale()) return;
    const { config, eventLog, metrics, trainer } = this.#deps;
    const model = trainer.name;
    const { dead } = decoded;
    const events = this.#capped(batch.partition, decoded.events);
    metrics.batchSize.observe({ model }, batch.records.length);
    metrics.lag.set(
      { model, partition: String(batch.partition) },
      Math.max(0, batch.highWatermark - batch.nextOffset),
    );
    metrics.logEnd.set({ model, partition: String(batch.partition) }, batch.highWatermark);
    const started = performance.now();
    let stats: TrainStats;
    try {
      // Every model's group reads the same records: only the primary one dead-letters them, so a
      // bad record is written once, not once per model (at least once: a retried batch sends
      // them again). The others count them all the same.
      if (dead.length > 0 && this.#deps.primary) await eventLog.deadLetter(dead);
      stats = await trainer.train(events, this.#now(), prefetched);
    } catch (error) {
      // Nothing of this batch is marked processed: it comes back. Batches trained before it are
      // in the local rows together with its partial training: drop them all and re-read.
      await this.#abandon(error, [], [{ partition: batch.partition, offset: batch.firstOffset }]);
      throw error;
    }
    if (this.#pending.length === 0) this.#pendingSince = this.#now();
    this.#pending.push({
      advance: {
        scope: this.groupId,
        partition: batch.partition,
        fromOffset: batch.firstOffset,
        nextOffset: batch.nextOffset,
      },
      events,
      dead,
      stats,
      records: batch.records.length,
    });
    this.#pendingRecords += batch.records.length;
    // Kafka's offset only feeds lag tooling; the truth is written with the model below.
    context.markProcessed(batch.nextOffset);
    metrics.batchSeconds.observe({ model }, (performance.now() - started) / 1000);
    // Group commit: write at once when no write is in flight (low latency at low rates); else the
    // batches gather until that write is done (#write flushes them then), so commits grow with
    // the rate. Past flushRecords, training waits for the write (backpressure).
    if (
      !this.#writing ||
      this.#pendingRecords >= config.trainer.flushRecords ||
      this.#now() - this.#pendingSince >= config.trainer.flushMs
    ) {
      await this.#flush();
    }
  }

  /**
   * Starts writing every pending batch in one atomic step and returns without waiting: the next
   * batches train while it is in flight (one write at a time, in order). A write that fails or is
   * fenced takes every batch trained after it down with it.
   */
  async #flush(): Promise<void> {
    if (this.#inflight !== undefined) {
      const ok = await this.#inflight;
      this.#inflight = undefined;
      if (!ok) return;
    }
    if (this.#pending.length === 0) return;
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingRecords = 0;
    const now = this.#now();
    const events = pending.flatMap((p) => p.events);
    const model = this.#deps.trainer.writes(now);
    const write: CommitBatch = {
      ...model.writes,
      offsets: pending.map((p) => p.advance),
      counters: [
        ...(model.writes.counters ?? []),
        ...this.#counters(events),
        ...this.#quality(pending.flatMap((p) => p.stats.ranks)),
      ],
      ...(this.#deps.primary ? this.#servingData(events) : {}),
    };

    this.#writing = true;
    this.#inflight = this.#write(write, pending, model.done).finally(() => (this.#writing = false));
  }

  /** Waits for the write in flight, if any. */
  async #settle(): Promise<void> {
    if (this.#inflight === undefined) return;
    await this.#inflight;
    this.#inflight = undefined;
  }

  async #write(write: CommitBatch, pending: readonly Pending[], done: () => void): Promise<boolean> {
    const { store, metrics, trainer } = this.#deps;
    const model = trainer.name;
    const started = performance.now();
    let result;
    try {
      await this.#holdWrites();
      result = await store.commit(write);
    } catch (error) {
      if (!(await this.#landed(write))) {
        // Handled in turn, after what is running now (which may be waiting for this very write:
        // never wait for the handler here).
        void this.#serialize(() => this.#abandon(error, pending));
        return false;
      }
      // It went through and only its answer was late: a success like any other.
      this.#log.warn({ err: (error as Error).message }, 'a write failed to answer but had landed');
      result = { status: 'committed' as const };
    }
    metrics.storeWriteSeconds.observe({ model }, (performance.now() - started) / 1000);
    if (result.status === 'fenced') {
      metrics.fenced.inc({ model });
      this.#log.warn(
        { partition: result.partition, storedOffset: result.storedOffset, batches: pending.length },
        'write fenced: a batch does not start at the stored offset; continuing from the stored offsets',
      );
      void this.#serialize(async () => {
        this.#deps.trainer.discard(true);
        this.#caps.clear(); // what they counted is read again
        const all = [...pending, ...this.#pending];
        this.#pending = [];
        this.#pendingRecords = 0;
        this.#seekBack(all, new Map([[result.partition, result.storedOffset]]));
      });
      return false;
    }
    this.#failures = 0;
    done();
    this.#writes++;
    // What gathered while this write was in flight goes next (after whatever runs now).
    if (this.#pending.length > 0) void this.#serialize(() => this.#flush());
    const written = this.#now();
    this.#observe(pending, written);
    this.#log.debug(
      { batches: pending.length, writeMs: Math.round(performance.now() - started) },
      'batches written',
    );
    if (trainer.tick !== undefined && written - this.#lastTick >= 1_000) {
      this.#lastTick = written;
      await trainer
        .tick(written)
        .catch((error: unknown) => this.#log.warn({ err: error }, 'periodic publish failed; will retry'));
    }
    return true;
  }

  /**
   * The events under the per-user cap, in log order; the others are counted and not learnt. The
   * cap reads event time, so the same records from the same starting point get the same verdicts.
   */
  #capped(partition: number, events: readonly BatchEvent[]): readonly BatchEvent[] {
    const limit = this.#deps.config.trainer.userEventsPerMinute;
    if (limit === 0) return events;
    let cap = this.#caps.get(partition);
    if (cap === undefined) this.#caps.set(partition, (cap = new WindowedCap(limit)));
    const model = this.#deps.trainer.name;
    return events.filter((e) => {
      if (cap.take(e.event.userId, e.time)) return true;
      this.#deps.metrics.events.inc({ model, type: e.event.type, outcome: 'capped' });
      return false;
    });
  }

  /**
   * Whether a write whose answer failed (e.g. a command timeout) was applied all the same: the
   * commit is atomic, so it landed exactly when every partition's stored offset is the write's
   * last next offset. The read goes behind the write on the same connection, so it sees it. A
   * timed-out write that landed was retried, fenced as already written, and its events were
   * never counted as applied.
   */
  async #landed(write: CommitBatch): Promise<boolean> {
    try {
      const stored = await this.#deps.store.getOffsets(this.groupId);
      const last = new Map<number, number>();
      for (const advance of write.offsets ?? []) last.set(advance.partition, advance.nextOffset);
      return last.size > 0 && [...last].every(([partition, next]) => stored.get(partition) === next);
    } catch {
      return false;
    }
  }

  /** Waits while the fault-injection file `trainer.holdWritesFile` exists (see its docs). */
  async #holdWrites(): Promise<void> {
    const file = this.#deps.config.trainer.holdWritesFile;
    if (file === '' || !existsSync(file)) return;
    this.#log.warn({ file }, 'writes held: trainer.holdWritesFile exists');
    while (existsSync(file)) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /**
   * The local rows hold training the store does not have: drop them, send the partitions of the
   * unwritten batches back to where they started, and (for an infrastructure error) pause with
   * a doubling delay before the records come back.
   */
  async #abandon(
    error: unknown,
    unwritten: readonly Pending[],
    alsoFrom: readonly { partition: number; offset: number }[] = [],
  ): Promise<void> {
    const pending = [...unwritten, ...this.#pending];
    this.#pending = [];
    this.#pendingRecords = 0;
    this.#deps.trainer.discard(true);
    this.#caps.clear(); // what they counted is read again
    this.#seekBack(pending, new Map(), alsoFrom);
    if (!isRetriable(error)) return;
    const code = isRecsysError(error) ? error.code : 'UNKNOWN';
    this.#deps.metrics.retries.inc({ model: this.#deps.trainer.name, code });
    const delay = Math.min(this.#deps.config.trainer.retryDelayMs * 2 ** this.#failures, 10_000);
    this.#failures = Math.min(this.#failures + 1, 10);
    this.#log.warn(
      { err: (error as Error).message, retryInMs: delay },
      'the store or the log failed; retrying the same records',
    );
    this.#subscription?.pause();
    await new Promise((resolve) => setTimeout(resolve, delay));
    this.#subscription?.resume();
  }

  /** Seeks each partition of `pending` back to its first unwritten offset (or a known stored one). */
  #seekBack(
    pending: readonly Pending[],
    stored: ReadonlyMap<number, number>,
    also: readonly { partition: number; offset: number }[] = [],
  ): void {
    const starts = new Map<number, number>();
    for (const { partition, offset } of [
      ...pending.map((p) => ({ partition: p.advance.partition, offset: p.advance.fromOffset })),
      ...also,
    ]) {
      starts.set(partition, Math.min(starts.get(partition) ?? offset, offset));
    }
    for (const [partition, offset] of stored) starts.set(partition, offset);
    for (const [partition, offset] of starts) this.#subscription?.seek(partition, offset);
  }

  #observe(pending: readonly Pending[], written: number): void {
    const { metrics, trainer } = this.#deps;
    const model = trainer.name;
    // Label lookups cost more than the updates: count per type first, observe through one child.
    const freshness = metrics.freshness.labels({ model });
    const applied = new Map<string, number>();
    for (const p of pending) {
      for (const e of p.events) {
        applied.set(e.event.type, (applied.get(e.event.type) ?? 0) + 1);
        freshness.observe(Math.max(0, written - e.loggedAt) / 1000);
      }
      for (const d of p.dead) {
        metrics.events.inc({ model, type: 'unknown', outcome: 'dead_lettered' });
        metrics.deadLetters.inc({ model, code: d.reason.code });
      }
      if (p.stats.rejected > 0) metrics.rejectedSteps.inc({ model }, p.stats.rejected);
      if (p.stats.newItems > 0) metrics.rowsCreated.inc({ model }, p.stats.newItems);
      if (Number.isFinite(p.stats.loss)) metrics.loss.set({ model }, p.stats.loss);
      for (const rank of p.stats.ranks) this.#window.add(rank);
    }
    for (const [type, count] of applied) metrics.events.inc({ model, type, outcome: 'applied' }, count);
    if (this.#window.count > 0) {
      metrics.hitRate.set({ model }, this.#window.hitRate);
      metrics.ndcg.set({ model }, this.#window.ndcg);
    }
    metrics.cacheRows.set({ model }, trainer.cacheRows());
  }

  /** Prequential trials and top-10 hits of the batch, for serving's model weighting. */
  #quality(ranks: readonly number[]): CounterIncrement[] {
    if (ranks.length === 0) return [];
    const fields = qualityFields(this.#deps.trainer.name);
    const hits = ranks.filter((rank) => rank < QUALITY_HIT_RANK).length;
    return [
      { name: QUALITY_COUNTER, field: fields.trials, by: ranks.length },
      ...(hits > 0 ? [{ name: QUALITY_COUNTER, field: fields.hits, by: hits }] : []),
    ];
  }

  /** Per-user and per-type event counts of this model (exact: they commit with the offsets). */
  #counters(events: readonly BatchEvent[]): CounterIncrement[] {
    const model = this.#deps.trainer.name;
    const perUser = new Map<string, number>();
    const perType = new Map<string, number>();
    for (const e of events) {
      perUser.set(e.event.userId, (perUser.get(e.event.userId) ?? 0) + 1);
      perType.set(e.event.type, (perType.get(e.event.type) ?? 0) + 1);
    }
    const audit = this.#deps.config.trainer.auditEventIds
      ? events
          .filter((e) => e.event.eventId !== undefined)
          .map((e) => ({ name: `applied:${model}`, field: e.event.eventId as string, by: 1 }))
      : [];
    return [
      ...[...perUser].map(([field, by]) => ({ name: eventCounter(model), field, by })),
      ...[...perType].map(([field, by]) => ({ name: `types:${model}`, field, by })),
      ...audit,
    ];
  }

  /** Recent histories and time-decayed popularity per context segment, for serving. */
  #servingData(events: readonly BatchEvent[]): {
    history: HistoryAppend[];
    popularity: PopularityIncrement[];
  } {
    const { popularityHalfLifeMs: halfLife, popularityEpochMs: epoch } = this.#deps.config.model;
    const history = new Map<string, string[]>();
    const popularity = new Map<string, number>();
    for (const e of events) {
      if (e.weight <= 0) continue;
      const list = history.get(e.event.userId) ?? [];
      list.push(e.event.itemId);
      history.set(e.event.userId, list);
      const score = popularityLogScore(e.weight, e.time, epoch, halfLife);
      if (!Number.isFinite(score)) continue;
      for (const segment of ['*', this.#context.segment(e.event.context, e.time)]) {
        const key = `${segment}\u0000${e.event.itemId}`;
        popularity.set(key, logAdd2(popularity.get(key) ?? Number.NEGATIVE_INFINITY, score));
      }
    }
    return {
      history: [...history].map(([userId, items]) => ({ userId, items })),
      popularity: [...popularity].map(([key, by]) => {
        const [segment, itemId] = key.split('\u0000') as [string, string];
        return { segment, itemId, by };
      }),
    };
  }
}
