import { MODELS, type ModelName } from '../../shared/model/registry.ts';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DeadLetterRecord, RecordBatch } from '../../shared/ports/index.ts';
import type { BatchEvent } from './decode.ts';
import type { ModelTrainer, TrainStats } from './model-trainer.ts';

/**
 * The trainer's metrics (docs/operations.md lists each with its meaning). Labels never carry user
 * or item ids: only model, event type, outcome, partition and error code.
 */
export function createTrainerMetrics(registry: Registry) {
  const registers = [registry];
  return {
    events: new Counter({
      name: 'recsys_trainer_events_total',
      help: 'Events consumed, by model, event type and outcome (applied, dead_lettered, capped, rejected).',
      labelNames: ['model', 'type', 'outcome'],
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'recsys_trainer_batch_seconds',
      help: 'Time to process one consumed batch, from decoding to the committed write.',
      labelNames: ['model'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    batchSize: new Histogram({
      name: 'recsys_trainer_batch_size',
      help: 'Records per consumed batch.',
      labelNames: ['model'],
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    }),
    lag: new Gauge({
      name: 'recsys_trainer_consumer_lag',
      help: 'Records behind the newest in the partition when the last batch was fetched.',
      labelNames: ['model', 'partition'],
      registers,
    }),
    logEnd: new Gauge({
      name: 'recsys_trainer_log_end_offset',
      help: 'Offset after the newest record of the partition when the last batch was fetched: its rate is the events arriving per second.',
      labelNames: ['model', 'partition'],
      registers,
    }),
    loss: new Gauge({
      name: 'recsys_trainer_loss',
      help: 'Mean training loss of the last batch.',
      labelNames: ['model'],
      registers,
    }),
    hitRate: new Gauge({
      name: 'recsys_trainer_prequential_hit_rate',
      help: 'Prequential HR@10 over the last 1,000 sampled events (ranked before being learned, against 99 random items).',
      labelNames: ['model'],
      registers,
    }),
    ndcg: new Gauge({
      name: 'recsys_trainer_prequential_ndcg',
      help: 'Prequential NDCG@10 over the last 1,000 sampled events.',
      labelNames: ['model'],
      registers,
    }),
    freshness: new Histogram({
      name: 'recsys_trainer_freshness_seconds',
      help: 'From an event entering the log to its row updates being written to the store.',
      labelNames: ['model'],
      buckets: [0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    cacheRows: new Gauge({
      name: 'recsys_trainer_cache_rows',
      help: 'Rows held in the local cache.',
      labelNames: ['model'],
      registers,
    }),
    storeWriteSeconds: new Histogram({
      name: 'recsys_trainer_store_write_seconds',
      help: 'Latency of the atomic batch write to the model store (Redis).',
      labelNames: ['model'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    deadLetters: new Counter({
      name: 'recsys_trainer_dead_letters_total',
      help: 'Events sent to the dead-letter topic, by error code.',
      labelNames: ['model', 'code'],
      registers,
    }),
    fenced: new Counter({
      name: 'recsys_trainer_fenced_batches_total',
      help: 'Batches not written because they did not start at the stored offset (stale consumer or replay).',
      labelNames: ['model'],
      registers,
    }),
    rejectedSteps: new Counter({
      name: 'recsys_trainer_rejected_steps_total',
      help: 'Training steps rejected because a value was NaN or infinite.',
      labelNames: ['model'],
      registers,
    }),
    retries: new Counter({
      name: 'recsys_trainer_retries_total',
      help: 'Batches retried after an infrastructure error (Redis or Kafka unavailable).',
      labelNames: ['model', 'code'],
      registers,
    }),
    rowsCreated: new Counter({
      name: 'recsys_trainer_rows_created_total',
      help: 'Items seen for the first time (new rows in the dynamic table).',
      labelNames: ['model'],
      registers,
    }),
    rowsEvicted: new Counter({
      name: 'recsys_trainer_rows_evicted_total',
      help: 'Rows evicted because they were not written for trainer.evictAfterMs.',
      labelNames: ['table'],
      registers,
    }),
    densePublished: new Counter({
      name: 'recsys_trainer_dense_publishes_total',
      help: 'Merges of the NeuMF dense tower into the store.',
      labelNames: ['model'],
      registers,
    }),
    backend: new Gauge({
      name: 'recsys_model_backend_info',
      help: 'The TF.js backend in use (value 1).',
      labelNames: ['backend'],
      registers,
    }),
  };
}

export type TrainerMetrics = ReturnType<typeof createTrainerMetrics>;

/** A moving window of prequential outcomes (hit, ndcg) exported as means. */
export class PrequentialWindow {
  readonly #hits: Float64Array;
  readonly #ndcg: Float64Array;
  #count = 0;
  #next = 0;

  constructor(size = 1_000) {
    this.#hits = new Float64Array(size);
    this.#ndcg = new Float64Array(size);
  }

  add(rank: number, k = 10): void {
    this.#hits[this.#next] = rank < k ? 1 : 0;
    this.#ndcg[this.#next] = rank < k ? 1 / Math.log2(rank + 2) : 0;
    this.#next = (this.#next + 1) % this.#hits.length;
    this.#count = Math.min(this.#count + 1, this.#hits.length);
  }

  get hitRate(): number {
    return mean(this.#hits, this.#count);
  }

  get ndcg(): number {
    return mean(this.#ndcg, this.#count);
  }

  get count(): number {
    return this.#count;
  }
}

function mean(values: Float64Array, count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += values[i] as number;
  return count === 0 ? 0 : sum / count;
}

/**
 * Exports every labelled counter of a model at 0 before anything happened, so dashboards and
 * alerts see a series (a zero) instead of no data.
 */
export function initTrainerSeries(
  metrics: ReturnType<typeof createTrainerMetrics>,
  model: ModelName,
  tables: readonly string[],
): void {
  metrics.rejectedSteps.inc({ model }, 0);
  metrics.fenced.inc({ model }, 0);
  metrics.rowsCreated.inc({ model }, 0);
  if (MODELS[model].dense) metrics.densePublished.inc({ model }, 0);
  for (const code of ['EVENT_INVALID', 'MALFORMED_JSON', 'PAYLOAD_TOO_LARGE'])
    metrics.deadLetters.inc({ model, code }, 0);
  for (const code of ['STORE_UNAVAILABLE', 'LOG_UNAVAILABLE']) metrics.retries.inc({ model, code }, 0);
  for (const table of tables) metrics.rowsEvicted.inc({ table }, 0);
}

/** What a written batch reports to the metrics. */
export interface WrittenBatch {
  readonly events: readonly BatchEvent[];
  readonly dead: readonly DeadLetterRecord[];
  readonly stats: TrainStats;
}

/** Counts a group commit's batches once it is known to be written (`written`: its time). */
export function observeWritten(
  metrics: TrainerMetrics,
  window: PrequentialWindow,
  trainer: Pick<ModelTrainer, 'name' | 'cacheRows'>,
  pending: readonly WrittenBatch[],
  written: number,
): void {
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
    for (const rank of p.stats.ranks) window.add(rank);
  }
  for (const [type, count] of applied) metrics.events.inc({ model, type, outcome: 'applied' }, count);
  if (window.count > 0) {
    metrics.hitRate.set({ model }, window.hitRate);
    metrics.ndcg.set({ model }, window.ndcg);
  }
  metrics.cacheRows.set({ model }, trainer.cacheRows());
}

/** A consumed batch's size, and its partition's lag and log end. */
export function observeBatch(metrics: TrainerMetrics, model: ModelName, batch: RecordBatch): void {
  const partition = String(batch.partition);
  metrics.batchSize.observe({ model }, batch.records.length);
  metrics.lag.set({ model, partition }, Math.max(0, batch.highWatermark - batch.nextOffset));
  metrics.logEnd.set({ model, partition }, batch.highWatermark);
}
