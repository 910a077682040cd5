import { MODELS } from '../../shared/model/registry.ts';
import { mfConfigFrom, type RecsysConfig } from '../../shared/config/index.ts';
import { ContextEncoder, contextKeys, type ContextKeys } from '../../shared/model/context.ts';
import { featuresOf, type FeatureSource } from '../../shared/model/features.ts';
import { HybridMF, type ContextRows, type HybridMfConfig } from '../../shared/model/hybrid-mf.ts';
import { Random } from '../../shared/model/random.ts';
import { liveRankCandidates, rankAmong } from '../../shared/model/rank.ts';
import type { CatalogRecord, CounterIncrement, ModelStore } from '../../shared/ports/index.ts';
import type { BatchEvent } from './decode.ts';
import { ItemRegistry, batchNegatives } from './item-registry.ts';
import type { ModelTrainer, PendingWrite, Prefetched, TrainStats } from './model-trainer.ts';
import { readAhead, type UserPrefetch } from './mf-prefetch.ts';
import { TableGroup } from './table-group.ts';
import { TableSync } from './table-sync.ts';
import { UserHistories } from './user-histories.ts';

/** Items read per background warm-up read. */
const WARM_CHUNK = 2_000;

/** Counter hash holding the sum and number of ratings (their mean is the global bias). */
export const MF_GLOBAL_COUNTER = 'mf:global';

interface Deps {
  readonly config: RecsysConfig;
  readonly store: ModelStore;
}

/**
 * Hybrid MF in the trainer. Every source of variation is pinned so that one partition replayed
 * from the store gives the same rows bit for bit, however often the process was killed:
 * negatives are drawn from the persisted item registry with a generator seeded by the event's
 * (partition, offset) and excluding the persisted user history; rows, optimizer state and the
 * rating sum come from the store; shared rows go back as exact float64 deltas.
 */
export class MfTrainer implements ModelTrainer {
  readonly name = 'mf' as const;
  readonly #config: RecsysConfig;
  readonly #store: ModelStore;
  readonly #mfConfig: Partial<HybridMfConfig>;
  readonly #registry = new ItemRegistry('mf');
  readonly #histories: UserHistories;
  #model!: HybridMF;
  #users!: TableSync;
  #items!: TableSync;
  #userFeatures!: TableSync;
  #itemFeatures!: TableSync;
  #contexts!: TableSync;
  #userContexts!: TableSync;
  /** Context features of events (undefined: MF is context-free, model.mf.context false). */
  readonly #encoder: ContextEncoder | undefined;
  /** Items and users whose catalog features were read (per local model). */
  #catalogRead = new Set<string>();
  /** The six tables, with the rows trained since the last write. */
  #tables!: TableGroup;
  /** Ratings trained since the last write: their sum and number. */
  #ratings = { sum: 0, count: 0 };
  #registryLoaded = false;
  /** Changes whenever the local cache is emptied or the partitions move: older prefetches are void. */
  #epoch = 0;

  constructor({ config, store }: Deps) {
    this.#config = config;
    this.#store = store;
    this.#mfConfig = mfConfigFrom(config);
    this.#histories = new UserHistories(config.trainer.historyLimit);
    this.#encoder = config.model.mf.context ? new ContextEncoder(config.model.context) : undefined;
    this.#reset();
  }

  /** The context features of an event (none when MF is context-free). */
  #contextKeys(e: BatchEvent): ContextKeys | undefined {
    return this.#encoder === undefined
      ? undefined
      : contextKeys(
          this.#encoder,
          e.event.context,
          e.time,
          e.event.userId,
          this.#config.model.context.crosses,
        );
  }

  get model(): HybridMF {
    return this.#model;
  }

  async onAssign(): Promise<void> {
    this.#epoch++;
    this.#users.invalidateAll();
    this.#userContexts.invalidateAll();
    this.#histories.clear();
    await this.#registry.refresh(this.#store);
    this.#registryLoaded = true;
    void this.#warmItems(this.#epoch);
  }

  /**
   * Reads the rows and catalog records of every registered item in the background, in chunks:
   * negatives are drawn from the whole registry, and a batch should not wait for rows it could
   * have had. Stops when the cache is emptied or the partitions move (a new epoch).
   */
  async #warmItems(epoch: number): Promise<void> {
    const ids = Array.from({ length: this.#registry.size }, (_, p) => this.#registry.idAt(p));
    for (let start = 0; start < ids.length && epoch === this.#epoch; start += WARM_CHUNK) {
      const chunk = ids.slice(start, start + WARM_CHUNK);
      try {
        await Promise.all([
          this.#readCatalog('item', chunk),
          this.#items.warm(this.#store, chunk, Date.now()),
        ]);
      } catch {
        return; // the store is unavailable: batches read what they need themselves
      }
    }
  }

  cacheRows(): number {
    return this.#tables.rows();
  }

  prefetch(events: readonly BatchEvent[]): Prefetched {
    const ids = [...new Set(events.map((e) => e.event.userId))];
    const histories = this.#histories.missing(ids);
    const catalog = ids.filter((id) => !this.#catalogRead.has(`u:${id}`));
    const rows = this.#users.unloaded(ids);
    const items = [...new Set(events.map((e) => e.event.itemId))];
    const itemRows = this.#items.unloaded(items);
    const itemCatalog = items.filter((id) => !this.#catalogRead.has(`i:${id}`));
    const crosses = this.#userContexts.unloaded([
      ...new Set(events.flatMap((e) => this.#contextKeys(e)?.crosses ?? [])),
    ]);
    return readAhead(
      this.#store,
      { histories, catalog, rows, crosses, itemRows, itemCatalog },
      {
        users: this.#users.storeTable,
        items: this.#items.storeTable,
        userContexts: this.#userContexts.storeTable,
      },
      this.#epoch,
    );
  }

  async train(events: readonly BatchEvent[], now: number, prefetched?: Prefetched): Promise<TrainStats> {
    if (!this.#registryLoaded) await this.onAssign();
    await prefetched?.settled;
    const known =
      (prefetched as UserPrefetch | undefined)?.epoch === this.#epoch
        ? (prefetched as UserPrefetch)
        : undefined;
    const model = this.#model;
    const refresh = this.#config.trainer.itemRefreshMs;
    if (events.some((e) => e.kind === 'explicit')) {
      // mu = all ratings' mean: what the store has, plus what was trained here but not written.
      const [sum, count] = await this.#store.getCounters(MF_GLOBAL_COUNTER, ['sum', 'count']);
      model.ratingSum = (sum ?? 0) + this.#ratings.sum;
      model.ratingCount = (count ?? 0) + this.#ratings.count;
    }

    const userIds = events.map((e) => e.event.userId);
    const keys = events.map((e) => this.#contextKeys(e));
    const sharedKeys = [...new Set(keys.flatMap((k) => k?.shared ?? []))];
    const crossKeys = [...new Set(keys.flatMap((k) => k?.crosses ?? []))];
    // Independent reads: one round trip's wait, not five.
    const [, , userIndex] = await Promise.all([
      this.#histories.load(this.#store, userIds, known?.histories),
      this.#readCatalog('user', userIds, known?.catalog),
      this.#users.load(this.#store, userIds, now, refresh, known?.rows),
      sharedKeys.length > 0 ? this.#contexts.load(this.#store, sharedKeys, now, refresh) : undefined,
      crossKeys.length > 0
        ? this.#userContexts.load(this.#store, crossKeys, now, refresh, known?.crossRows)
        : undefined,
    ]);
    const contextRows = keys.map((k): ContextRows | undefined =>
      k === undefined
        ? undefined
        : {
            shared: Int32Array.from(k.shared, (key) => model.contexts.indexOf(key)),
            crosses: Int32Array.from(k.crosses, (key) => model.userContexts.indexOf(key)),
          },
    );

    // Register new items and draw negatives in event order, mirroring the history as the store
    // will hold it after each event.
    const registered = this.#registry.size;
    const negativeIds = batchNegatives(
      events,
      this.#registry,
      this.#histories,
      model.config.negatives,
      this.#config.model.seed,
      (e) => e.weight > 0 && e.kind === 'implicit',
    );
    const newItems = this.#registry.size - registered;

    const itemIds = [...new Set([...events.map((e) => e.event.itemId), ...negativeIds.flat()])];
    await Promise.all([
      this.#readCatalog('item', itemIds, known?.itemCatalog),
      this.#items.load(this.#store, itemIds, now, refresh, known?.itemRows),
    ]);
    // Feature rows are shared by many items and trainers: keep the batch's within the bound too.
    const featureKeys = new Set<string>();
    for (const id of itemIds)
      for (const key of model.itemFeatureList(model.items.indexOf(id)).keys) featureKeys.add(key);
    if (featureKeys.size > 0) await this.#itemFeatures.load(this.#store, [...featureKeys], now, refresh);
    this.#tables.takeDirty();

    let lossSum = 0;
    let steps = 0;
    let rejected = 0;
    const ranks: number[] = [];
    const sample = this.#config.trainer.prequentialSample;
    events.forEach((e, k) => {
      const user = userIndex[k] as number;
      const item = model.items.indexOf(e.event.itemId);
      const context = contextRows[k];
      if (sample > 0 && e.weight > 0 && e.kind === 'implicit') {
        const pick = new Random((e.offset * 2654435761 + e.partition) >>> 0);
        if (pick.next() < sample) ranks.push(this.#rank(user, item, context, pick, e.event.userId));
      }
      const negatives = Int32Array.from(negativeIds[k] as string[], (id) => model.items.indexOf(id));
      const loss = model.learn(
        {
          user,
          item,
          weight: e.weight,
          kind: e.kind,
          value: e.event.value ?? 0,
          time: e.time,
          ...(context === undefined ? {} : { context }),
        },
        e.kind === 'implicit' && e.weight > 0 ? negatives : undefined,
      );
      if (Number.isNaN(loss)) rejected++;
      else {
        lossSum += loss;
        steps++;
      }
    });

    this.#tables.collectChanged();
    for (const e of events) {
      if (e.kind === 'explicit' && Number.isFinite(e.event.value)) {
        this.#ratings.sum += e.event.value ?? 0;
        this.#ratings.count++;
      }
    }
    return { loss: steps === 0 ? Number.NaN : lossSum / steps, rejected, ranks, newItems };
  }

  writes(now: number): PendingWrite {
    const model = this.#model;
    const ratings = this.#ratings;
    const changed = [...this.#tables.touched(this.#items)].map((i) => model.items.idAt(i));
    const { puts, deltas, done } = this.#tables.writes(now);
    this.#clearTouched();
    const counters: CounterIncrement[] =
      ratings.count > 0
        ? [
            { name: MF_GLOBAL_COUNTER, field: 'sum', by: ratings.sum },
            { name: MF_GLOBAL_COUNTER, field: 'count', by: ratings.count },
          ]
        : [];
    const pendingItems = this.#registry.pending();
    const registered = this.#registry.size;
    return {
      writes: {
        puts,
        deltas,
        counters,
        ...(pendingItems.length > 0 ? { newItems: { registry: 'mf', ids: pendingItems } } : {}),
        ...(changed.length > 0 ? { changedItems: { stream: MODELS.mf.changes, ids: changed } } : {}),
      },
      done: () => {
        done();
        this.#registry.committed(registered);
        this.#histories.committed();
        if (this.cacheRows() > this.#config.trainer.cacheRows) this.#reset();
      },
    };
  }

  discard(everything = false): void {
    this.#registry.rollback();
    if (everything) {
      this.#registryLoaded = false;
      this.#reset();
      return;
    }
    this.#tables.invalidateTouched();
    this.#clearTouched();
    this.#histories.discard();
  }

  #clearTouched(): void {
    this.#tables.clearTouched();
    this.#ratings = { sum: 0, count: 0 };
  }

  /** Rank (0-based, rank.ts) of the item among itself and 99 random cached items, before learning it. */
  #rank(
    user: number,
    item: number,
    context: ContextRows | undefined,
    random: Random,
    userId: string,
  ): number {
    const model = this.#model;
    const excluded = this.#histories.excluded(userId);
    const items = model.items;
    const candidates = liveRankCandidates(item, items.size, (j) => items.idAt(j), excluded, random);
    const scores = candidates.map((j) => model.score(user, j, false, context));
    return rankAmong(scores[0] as number, scores, 1, scores.length, random);
  }

  /**
   * Reads the catalog records of ids not read since the last reset (`known`: records the prefetch
   * already has) and sets their features in the model, loading the feature rows they name.
   */
  async #readCatalog(
    kind: 'item' | 'user',
    ids: readonly string[],
    known?: ReadonlyMap<string, CatalogRecord | undefined>,
  ): Promise<void> {
    const tag = kind === 'item' ? 'i:' : 'u:';
    const fresh = [...new Set(ids)].filter((id) => !this.#catalogRead.has(tag + id));
    if (fresh.length === 0) return;
    const unknown = known === undefined ? fresh : fresh.filter((id) => !known.has(id));
    const read =
      unknown.length === 0
        ? []
        : await (kind === 'item' ? this.#store.getItems(unknown) : this.#store.getUsers(unknown));
    const byId = new Map(unknown.map((id, k) => [id, read[k]]));
    const featureKeys: string[] = [];
    for (const id of fresh) {
      this.#catalogRead.add(tag + id);
      const record = (byId.has(id) ? byId.get(id) : known?.get(id)) as FeatureSource | undefined;
      if (record === undefined) continue;
      const features = featuresOf(record);
      if (features.length === 0) continue;
      if (kind === 'item') this.#model.setItemFeatures(id, features);
      else this.#model.setUserFeatures(id, features);
      featureKeys.push(...features.map((f) => f.key));
    }
    const rows = kind === 'item' ? this.#itemFeatures : this.#userFeatures;
    if (featureKeys.length > 0)
      await rows.load(this.#store, featureKeys, Date.now(), this.#config.trainer.itemRefreshMs);
  }

  /** A fresh, empty local cache (everything is read again from the store on demand). */
  #reset(): void {
    this.#epoch++;
    this.#model = new HybridMF(this.#mfConfig);
    const withState = this.#model.config.optimizer.kind === 'adagrad';
    this.#users = new TableSync(this.#model.users, 'owned', withState);
    this.#items = new TableSync(this.#model.items, 'shared', withState);
    this.#userFeatures = new TableSync(this.#model.userFeatures, 'shared', withState);
    this.#itemFeatures = new TableSync(this.#model.itemFeatures, 'shared', withState);
    // Context values are shared by every user; a user x context row belongs to its user's partition.
    this.#contexts = new TableSync(this.#model.contexts, 'shared', withState);
    this.#userContexts = new TableSync(this.#model.userContexts, 'owned', withState);
    this.#tables = new TableGroup([
      this.#users,
      this.#items,
      this.#userFeatures,
      this.#itemFeatures,
      this.#contexts,
      this.#userContexts,
    ]);
    this.#catalogRead = new Set();
    this.#histories.clear();
    this.#clearTouched();
  }
}
