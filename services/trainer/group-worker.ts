import type { RecsysConfig } from '../../shared/config/index.ts';
import { isRecsysError, isRetriable } from '../../shared/errors/index.ts';
import { ContextEncoder } from '../../shared/model/context.ts';
import type { Logger } from '../../shared/observability/index.ts';
import type {
  BatchContext,
  CommitBatch,
  DeadLetterRecord,
  EventLog,
  ModelStore,
  OffsetAdvance,
  RecordBatch,
  Subscription,
} from '../../shared/ports/index.ts';
import type { EventCodec } from '../../shared/schemas/index.ts';
import { eventCounters, qualityIncrements, servingData } from './batch-writes.ts';
import { decodeBatch, type BatchEvent } from './decode.ts';
import { PrequentialWindow, observeBatch, observeWritten, type TrainerMetrics } from './metrics.ts';
import { PartitionCaps } from './partition-caps.ts';
import { holdWhileExists, resumeOffsets, writeLanded } from './write-recovery.ts';
import type { ModelTrainer, Prefetched, TrainStats } from './model-trainer.ts';

export { eventCounter } from './batch-writes.ts';

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
  readonly #popularity: { readonly halfLifeMs: number; readonly epochMs: number };
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
  readonly #caps: PartitionCaps;

  constructor(deps: GroupWorkerDeps) {
    this.#deps = deps;
    this.groupId = `${deps.config.trainer.groupPrefix}-${deps.trainer.name}`;
    this.#log = deps.logger.child({ component: 'trainer', model: deps.trainer.name, groupId: this.groupId });
    this.#context = new ContextEncoder({ fields: deps.config.model.context.fields });
    this.#caps = new PartitionCaps(deps.config.trainer.userEventsPerMinute, (e) =>
      deps.metrics.events.inc({ model: deps.trainer.name, type: e.event.type, outcome: 'capped' }),
    );
    const { popularityHalfLifeMs: halfLifeMs, popularityEpochMs: epochMs } = deps.config.model;
    this.#popularity = { halfLifeMs, epochMs };
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
          await this.#drain();
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
    await this.#serialize(() => this.#drain());
    await this.#subscription?.stop();
    await this.#serialize(() => this.#drain());
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
    const events = this.#caps.filter(batch.partition, decoded.events);
    observeBatch(metrics, model, batch);
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
    const trainerName = this.#deps.trainer.name;
    const write: CommitBatch = {
      ...model.writes,
      offsets: pending.map((p) => p.advance),
      counters: [
        ...(model.writes.counters ?? []),
        ...eventCounters(trainerName, events, this.#deps.config.trainer.auditEventIds),
        ...qualityIncrements(
          trainerName,
          pending.flatMap((p) => p.stats.ranks),
        ),
      ],
      ...(this.#deps.primary ? servingData(events, this.#context, this.#popularity) : {}),
    };

    this.#writing = true;
    this.#inflight = this.#write(write, pending, model.done).finally(() => (this.#writing = false));
  }

  /** Writes what was trained and waits for the write. */
  async #drain(): Promise<void> {
    await this.#flush();
    await this.#settle();
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
      await holdWhileExists(this.#deps.config.trainer.holdWritesFile, this.#log);
      result = await store.commit(write);
    } catch (error) {
      if (!(await writeLanded(this.#deps.store, this.groupId, write))) {
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
      void this.#serialize(async () =>
        this.#rewind(pending, new Map([[result.partition, result.storedOffset]])),
      );
      return false;
    }
    this.#failures = 0;
    done();
    this.#writes++;
    // What gathered while this write was in flight goes next (after whatever runs now).
    if (this.#pending.length > 0) void this.#serialize(() => this.#flush());
    const written = this.#now();
    observeWritten(this.#deps.metrics, this.#window, this.#deps.trainer, pending, written);
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
   * The local rows hold training the store does not have: drop them, send the partitions of the
   * unwritten batches back to where they started, and (for an infrastructure error) pause with
   * a doubling delay before the records come back.
   */
  async #abandon(
    error: unknown,
    unwritten: readonly Pending[],
    alsoFrom: readonly { partition: number; offset: number }[] = [],
  ): Promise<void> {
    this.#rewind(unwritten, new Map(), alsoFrom);
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

  /**
   * The local rows hold training the store does not have: drop it with every pending batch, and
   * seek each partition back to its first unwritten offset (or a known stored one).
   */
  #rewind(
    unwritten: readonly Pending[],
    stored: ReadonlyMap<number, number>,
    also: readonly { partition: number; offset: number }[] = [],
  ): void {
    const from = [...unwritten, ...this.#pending].map((p) => ({
      partition: p.advance.partition,
      offset: p.advance.fromOffset,
    }));
    this.#pending = [];
    this.#pendingRecords = 0;
    this.#deps.trainer.discard(true);
    this.#caps.clear(); // what they counted is read again
    for (const [partition, offset] of resumeOffsets([...from, ...also], stored))
      this.#subscription?.seek(partition, offset);
  }
}
