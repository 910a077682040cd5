import { MODELS } from '../../shared/model/registry.ts';
import { liveRankCandidates, rankAmong } from '../../shared/model/rank.ts';
import { neumfConfigFrom, type RecsysConfig } from '../../shared/config/index.ts';
import { DENSE_CHUNK, DENSE_COUNTER, DENSE_TABLE, chunkIds } from '../../shared/model/neumf/dense-layout.ts';
import { NeuMF } from '../../shared/model/neumf/neumf.ts';
import { Random } from '../../shared/model/random.ts';
import type { ModelStore } from '../../shared/ports/index.ts';
import type { BatchEvent } from './decode.ts';
import { ItemRegistry, batchNegatives } from './item-registry.ts';
import type { ModelTrainer, PendingWrite, TrainStats } from './model-trainer.ts';
import { TableGroup } from './table-group.ts';
import { TableSync } from './table-sync.ts';
import { UserHistories } from './user-histories.ts';

function flatten(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

interface Deps {
  readonly config: RecsysConfig;
  readonly store: ModelStore;
}

/**
 * NeuMF in the trainer. Embedding rows are synchronised with the store like MF's (users owned,
 * items and context rows shared, float64 deltas). The dense tower is shared by every trainer:
 * each trains its own copy with Adam and, every `densePublishMs`, adds what it learned since the
 * last merge (a float64 delta) to the store's tower and continues from the merged result, so no
 * trainer's work overwrites another's. A crash loses at most one publish interval of tower
 * learning; rows and offsets are exact.
 */
export class NeuMfTrainer implements ModelTrainer {
  readonly name = 'neumf' as const;
  readonly model: NeuMF;
  readonly #config: RecsysConfig;
  readonly #store: ModelStore;
  readonly #registry = new ItemRegistry('neumf');
  readonly #histories: UserHistories;
  readonly #gmfUsers: TableSync;
  readonly #mlpUsers: TableSync;
  readonly #gmfItems: TableSync;
  readonly #mlpItems: TableSync;
  readonly #contexts: TableSync;
  /** The flattened tower as last merged with the store (one element). */
  #denseBase: Float32Array[] | undefined;
  #lastPublish = 0;
  /** The five tables, with the rows trained since the last write. */
  readonly #tables: TableGroup;
  #registryLoaded = false;

  constructor({ config, store }: Deps) {
    this.#config = config;
    this.#store = store;
    this.model = new NeuMF(neumfConfigFrom(config));
    this.#histories = new UserHistories(config.trainer.historyLimit);
    this.#gmfUsers = new TableSync(this.model.gmfUsers, 'owned', true);
    this.#mlpUsers = new TableSync(this.model.mlpUsers, 'owned', true);
    this.#gmfItems = new TableSync(this.model.gmfItems, 'shared', true);
    this.#mlpItems = new TableSync(this.model.mlpItems, 'shared', true);
    this.#contexts = new TableSync(this.model.contexts, 'shared', true);
    this.#tables = new TableGroup([
      this.#gmfUsers,
      this.#mlpUsers,
      this.#gmfItems,
      this.#mlpItems,
      this.#contexts,
    ]);
  }

  async onAssign(): Promise<void> {
    this.#gmfUsers.invalidateAll();
    this.#mlpUsers.invalidateAll();
    this.#histories.clear();
    await this.#registry.refresh(this.#store);
    this.#registryLoaded = true;
    if (this.#denseBase === undefined) await this.#mergeDense();
  }

  cacheRows(): number {
    return this.model.gmfUsers.size + this.model.gmfItems.size + this.model.contexts.size;
  }

  async train(events: readonly BatchEvent[], now: number): Promise<TrainStats> {
    if (!this.#registryLoaded) await this.onAssign();
    const model = this.model;
    const refresh = this.#config.trainer.itemRefreshMs;
    const userIds = events.map((e) => e.event.userId);
    for (const id of userIds) model.ensureUser(id);
    // Independent reads: one round trip's wait, not three.
    await Promise.all([
      this.#histories.load(this.#store, userIds),
      this.#gmfUsers.load(this.#store, userIds, now, refresh),
      this.#mlpUsers.load(this.#store, userIds, now, refresh),
    ]);

    const registered = this.#registry.size;
    const negativeIds = batchNegatives(
      events,
      this.#registry,
      this.#histories,
      model.config.negatives,
      this.#config.model.seed ^ 0x4e4d,
      (e) => e.weight > 0,
    );
    const itemIds = [...new Set([...events.map((e) => e.event.itemId), ...negativeIds.flat()])];
    for (const id of itemIds) model.ensureItem(id);
    const contextKeys = new Set<string>();
    for (const e of events)
      for (const key of model.context.encode(e.event.context, e.time)) contextKeys.add(key);
    await Promise.all([
      this.#gmfItems.load(this.#store, itemIds, now, refresh),
      this.#mlpItems.load(this.#store, itemIds, now, refresh),
      this.#contexts.load(this.#store, [...contextKeys], now, refresh),
    ]);
    this.#tables.takeDirty();

    const ranks: number[] = [];
    const sample = this.#config.trainer.prequentialSample;
    let lossSum = 0;
    let losses = 0;
    const rejectedBefore = model.rejectedSteps;
    events.forEach((e, k) => {
      const user = model.gmfUsers.indexOf(e.event.userId);
      const item = model.gmfItems.indexOf(e.event.itemId);
      if (sample > 0 && e.weight > 0) {
        const pick = new Random((e.offset * 2654435761 + e.partition + 7) >>> 0);
        if (pick.next() < sample) ranks.push(this.#rank(user, item, e, pick));
      }
      const negatives = Int32Array.from(negativeIds[k] as string[], (id) => model.gmfItems.indexOf(id));
      const loss = model.learn(
        { user, item, weight: e.weight, time: e.time, context: e.event.context },
        negatives,
      );
      if (loss !== undefined && Number.isFinite(loss)) {
        lossSum += loss;
        losses++;
      }
    });
    const last = model.flush();
    if (last !== undefined && Number.isFinite(last)) {
      lossSum += last;
      losses++;
    }

    this.#tables.collectChanged();
    return {
      loss: losses === 0 ? Number.NaN : lossSum / losses,
      rejected: model.rejectedSteps - rejectedBefore,
      ranks,
      newItems: this.#registry.size - registered,
    };
  }

  writes(now: number): PendingWrite {
    const touched = [...this.#tables.touched(this.#gmfItems), ...this.#tables.touched(this.#mlpItems)];
    const { puts, deltas, done } = this.#tables.writes(now);
    const pending = this.#registry.pending();
    const registered = this.#registry.size;
    const changed = [...new Set(touched)].map((i) => this.model.gmfItems.idAt(i));
    return {
      writes: {
        puts,
        deltas,
        ...(pending.length > 0 ? { newItems: { registry: 'neumf', ids: pending } } : {}),
        ...(changed.length > 0 ? { changedItems: { stream: MODELS.neumf.changes, ids: changed } } : {}),
      },
      done: () => {
        done();
        this.#registry.committed(registered);
        this.#histories.committed();
      },
    };
  }

  discard(everything = false): void {
    this.#registry.rollback();
    if (everything) {
      this.#tables.invalidateAll();
      this.#registryLoaded = false;
      this.#histories.clear();
      return;
    }
    this.#tables.invalidateTouched();
    this.#histories.discard();
  }

  async tick(now: number): Promise<void> {
    if (now - this.#lastPublish < this.#config.trainer.densePublishMs) return;
    await this.#mergeDense();
    this.#lastPublish = now;
  }

  /** Publishes now (e.g. at shutdown). */
  async publish(): Promise<void> {
    await this.#mergeDense();
    this.#lastPublish = Date.now();
  }

  /** At a clean stop: the tower as trained so far. */
  finish(): Promise<void> {
    return this.publish();
  }

  dispose(): void {
    this.model.dispose();
  }

  /**
   * Adds the tower's change since the last merge to the store (float64 deltas, so merges from
   * several trainers add up), then continues from the merged tower. The tower's weights are
   * flattened and stored in rows of at most DENSE_CHUNK values (Redis's Lua stack limits one
   * row to a few thousand values).
   */
  async #mergeDense(): Promise<void> {
    const vars = this.model.tower.variables;
    const flat = flatten(vars.map((v) => v.dataSync() as Float32Array));
    const ids = chunkIds(flat.length);
    const now = Date.now();
    const base = this.#denseBase;
    if (base !== undefined) {
      await this.#store.commit({
        deltas: [
          {
            table: DENSE_TABLE,
            rows: ids.map((id, c) => {
              const from = c * DENSE_CHUNK;
              const part = flat.subarray(from, from + DENSE_CHUNK);
              const basePart = (base[0] as Float32Array).subarray(from, from + DENSE_CHUNK);
              return {
                id,
                value: {
                  vector: Float64Array.from(part, (x, d) => x - (basePart[d] as number)),
                  bias: 0,
                  count: 1,
                  updatedAt: now,
                  init: basePart,
                },
              };
            }),
          },
        ],
        counters: [{ name: DENSE_COUNTER, field: 'version', by: 1 }],
      });
    }
    const stored = await this.#store.getRows(DENSE_TABLE, ids);
    const complete = stored.every(
      (row, c) =>
        row !== undefined && row.vector.length === Math.min(DENSE_CHUNK, flat.length - c * DENSE_CHUNK),
    );
    if (complete) {
      const merged = new Float32Array(flat.length);
      stored.forEach((row, c) => merged.set((row as { vector: Float32Array }).vector, c * DENSE_CHUNK));
      let offset = 0;
      this.model.setDenseWeights(
        vars.map((v) => {
          const size = v.size;
          const values = merged.slice(offset, offset + size);
          offset += size;
          return { shape: [...v.shape], values };
        }),
      );
      this.#denseBase = [merged];
    } else {
      // Nothing stored yet (or another shape): the local tower becomes the stored one.
      await this.#store.commit({
        puts: [
          {
            table: DENSE_TABLE,
            rows: ids.map((id, c) => ({
              id,
              value: {
                vector: flat.slice(c * DENSE_CHUNK, (c + 1) * DENSE_CHUNK),
                bias: 0,
                count: 0,
                updatedAt: now,
              },
            })),
          },
        ],
        counters: [{ name: DENSE_COUNTER, field: 'version', by: 1 }],
      });
      this.#denseBase = [flat.slice()];
    }
  }

  #rank(user: number, item: number, e: BatchEvent, random: Random): number {
    const model = this.model;
    const excluded = this.#histories.excluded(e.event.userId);
    const items = model.gmfItems;
    const candidates = liveRankCandidates(item, items.size, (j) => items.idAt(j), excluded, random);
    const scores = model.scoreItems(
      user,
      Int32Array.from(candidates),
      model.contextRows(e.event.context, e.time),
    );
    return rankAmong(scores[0] as number, scores, 1, scores.length, random);
  }
}
