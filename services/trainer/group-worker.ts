import type { RecsysConfig } from '../../shared/config/index.ts';
import { ContextEncoder } from '../../shared/model/context.ts';
import { isRecsysError, isRetriable } from '../../shared/errors/index.ts';
import type { Logger } from '../../shared/observability/index.ts';
import type {
  BatchContext,
  CommitBatch,
  CounterIncrement,
  EventLog,
  HistoryAppend,
  ModelStore,
  PopularityIncrement,
  RecordBatch,
  Subscription,
} from '../../shared/ports/index.ts';
import type { EventCodec } from '../../shared/schemas/index.ts';
import { decodeBatch, type BatchEvent } from './decode.ts';
import { PrequentialWindow, type TrainerMetrics } from './metrics.ts';
import type { ModelTrainer } from './model-trainer.ts';

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

/**
 * One model's consumer group: batches in, one atomic write out.
 *
 * For each batch: decode (bad records go to the dead-letter topic with their bytes and reason),
 * train, then write rows, counters, serving data and the partition's next offset in one
 * compare-and-set (ModelStore.commit). A fenced write (the batch does not start at the stored
 * offset: another consumer owns the partition, or this is a replay) changes nothing; the local
 * rows it touched are read again and the partition continues from the stored offset. A failed
 * write (Redis down) is retried from the same records after a pause, never dead-lettered.
 */
export class GroupWorker {
  readonly groupId: string;
  readonly #deps: GroupWorkerDeps;
  readonly #log: Logger;
  readonly #window = new PrequentialWindow();
  readonly #context: ContextEncoder;
  #subscription: Subscription | undefined;
  #lastTick = 0;
  #busy: Promise<void> = Promise.resolve();
  #healthy = true;
  #batches = 0;
  /** Consecutive infrastructure failures: the pause before the next try doubles with each. */
  #failures = 0;

  constructor(deps: GroupWorkerDeps) {
    this.#deps = deps;
    this.groupId = `${deps.config.trainer.groupPrefix}-${deps.trainer.name}`;
    this.#log = deps.logger.child({ component: 'trainer', model: deps.trainer.name, groupId: this.groupId });
    this.#context = new ContextEncoder({ fields: deps.config.model.neumf.contextFields });
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  get batches(): number {
    return this.#batches;
  }

  assignment(): readonly number[] {
    return this.#subscription?.assignment() ?? [];
  }

  async start(): Promise<void> {
    const { eventLog, store, trainer } = this.#deps;
    this.#subscription = await eventLog.consume({
      groupId: this.groupId,
      onAssign: async (partitions) => {
        await trainer.onAssign();
        const stored = await store.getOffsets(this.groupId);
        this.#log.info(
          { partitions, stored: Object.fromEntries(stored) },
          'partitions assigned; continuing from the stored offsets',
        );
        return new Map(partitions.filter((p) => stored.has(p)).map((p) => [p, stored.get(p) as number]));
      },
      onRevoke: (partitions) => {
        this.#log.info({ partitions }, 'partitions revoked');
      },
      eachBatch: (batch, context) => this.#serialize(() => this.#process(batch, context)),
      onError: (error) => {
        this.#healthy = false;
        this.#log.error({ err: error }, 'consumer stopped by a non-retriable error');
        this.#deps.onFatal(error);
      },
    });
  }

  /** Finishes the batch in progress, writes it, and leaves the group. */
  async stop(): Promise<void> {
    await this.#subscription?.stop();
    await this.#busy.catch(() => undefined);
  }

  /** One batch at a time per model, even if the event log hands several partitions in parallel. */
  #serialize(fn: () => Promise<void>): Promise<void> {
    const run = this.#busy.then(fn, fn);
    this.#busy = run.catch(() => undefined);
    return run;
  }

  async #process(batch: RecordBatch, context: BatchContext): Promise<void> {
    if (context.isStale()) return;
    const { config, codec, store, eventLog, metrics, trainer } = this.#deps;
    const model = trainer.name;
    const now = this.#deps.now ?? Date.now;
    const started = performance.now();
    metrics.batchSize.observe({ model }, batch.records.length);
    metrics.lag.set(
      { model, partition: String(batch.partition) },
      Math.max(0, batch.highWatermark - batch.nextOffset),
    );

    const { events, dead } = decodeBatch(batch, codec, config.events.types);
    if (dead.length > 0) {
      // At least once: a batch retried after this point sends its dead letters again.
      await eventLog.deadLetter(dead);
    }
    let trained;
    try {
      trained = await trainer.train(events, now());
    } catch (error) {
      trainer.discard();
      await this.#retrying(error);
      throw error;
    }
    const write: CommitBatch = {
      ...trained.writes,
      offset: {
        scope: this.groupId,
        partition: batch.partition,
        fromOffset: batch.firstOffset,
        nextOffset: batch.nextOffset,
      },
      counters: [...(trained.writes.counters ?? []), ...this.#counters(events)],
      ...(this.#deps.primary ? this.#servingData(events) : {}),
    };
    const writeStarted = performance.now();
    let result;
    try {
      result = await store.commit(write);
    } catch (error) {
      trainer.discard();
      await this.#retrying(error);
      throw error;
    }
    this.#failures = 0;
    metrics.storeWriteSeconds.observe({ model }, (performance.now() - writeStarted) / 1000);
    if (result.status === 'fenced') {
      trainer.discard(true);
      metrics.fenced.inc({ model });
      this.#log.warn(
        { partition: batch.partition, batchStart: batch.firstOffset, storedOffset: result.storedOffset },
        'batch fenced: it does not start at the stored offset; continuing from the stored offset',
      );
      this.#subscription?.seek(batch.partition, result.storedOffset);
      return;
    }
    trainer.committed();
    context.markProcessed(batch.nextOffset);
    this.#batches++;

    const written = now();
    for (const e of events) {
      metrics.events.inc({ model, type: e.event.type, outcome: 'applied' });
      metrics.freshness.observe({ model }, Math.max(0, written - e.loggedAt) / 1000);
    }
    for (const d of dead) {
      metrics.events.inc({ model, type: 'unknown', outcome: 'dead_lettered' });
      metrics.deadLetters.inc({ model, code: d.reason.code });
    }
    if (trained.rejected > 0) metrics.rejectedSteps.inc({ model }, trained.rejected);
    if (trained.newItems > 0) metrics.rowsCreated.inc({ model }, trained.newItems);
    if (Number.isFinite(trained.loss)) metrics.loss.set({ model }, trained.loss);
    for (const rank of trained.ranks) this.#window.add(rank);
    if (this.#window.count > 0) {
      metrics.hitRate.set({ model }, this.#window.hitRate);
      metrics.ndcg.set({ model }, this.#window.ndcg);
    }
    metrics.cacheRows.set({ model }, trainer.cacheRows());
    metrics.batchSeconds.observe({ model }, (performance.now() - started) / 1000);

    if (trainer.tick !== undefined && written - this.#lastTick >= 1_000) {
      this.#lastTick = written;
      await trainer
        .tick(written)
        .catch((error: unknown) => this.#log.warn({ err: error }, 'periodic publish failed; will retry'));
    }
  }

  /** Per-user and per-type event counts of this model (exact: they commit with the offset). */
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
      const score = e.weight * 2 ** ((e.time - epoch) / halfLife);
      if (!Number.isFinite(score)) continue;
      for (const segment of ['*', this.#context.segment(e.event.context, e.time)]) {
        const key = `${segment}\u0000${e.event.itemId}`;
        popularity.set(key, (popularity.get(key) ?? 0) + score);
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

  /** Counts and logs an infrastructure failure, then waits (exponential backoff, capped). */
  async #retrying(error: unknown): Promise<void> {
    if (!isRetriable(error)) return;
    const code = isRecsysError(error) ? error.code : 'UNKNOWN';
    this.#deps.metrics.retries.inc({ model: this.#deps.trainer.name, code });
    const delay = Math.min(this.#deps.config.trainer.retryDelayMs * 2 ** this.#failures, 10_000);
    this.#failures = Math.min(this.#failures + 1, 10);
    this.#log.warn(
      { err: (error as Error).message, retryInMs: delay },
      'batch failed on the infrastructure; retrying the same records',
    );
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
