import { MF_TABLES, MODELS } from '../../../shared/model/registry.ts';
import type { Logger } from '../../../shared/observability/index.ts';
import {
  CATALOG_STREAM,
  type CatalogStore,
  type ChangeFeeds,
  type RowStore,
} from '../../../shared/ports/index.ts';
import { ChangeFollower } from './change-follower.ts';
import type { ItemIndex } from './item-index.ts';

const CHUNK = 1_000;
/**
 * Items a periodic full reload applies between pauses, and how long it pauses: nine times what
 * the batch took, so a reload takes at most a tenth of the process's time. A reload is a safety
 * net (the change streams carry every change): unpaced, a large catalog's took its whole CPU
 * from the requests at once; paced, a million items reload well within the 5-minute period. The
 * first load is not paced (nothing is served yet).
 */
const PACED_CHUNK = 250;
const PAUSE_FACTOR = 9;
/** Rebuild the ANN index early once this share of the items changed since its snapshot. */
const ANN_DIRTY_SHARE = 0.05;
/**
 * How often (on the sync's clock) the item feature rows are read again. They are trained with
 * every event on an item that has them, but no change stream names them: without this, serving
 * combined fresh item rows with feature rows from the last full reload, vectors the trainer never
 * had.
 */
export const FEATURE_REFRESH_MS = 5_000;
/** A feature row is replaced once it moved by more than this share of its size (setFeatureRows). */
const FEATURE_TOLERANCE = 1e-3;

/**
 * Keeps an ItemIndex current: a full load at start and every `fullReloadMs` (all items of the MF
 * registry and the catalog, their rows and feature rows; the ANN index only when stale), and in between an
 * incremental refresh from the MF registry, the trainer's `mf` change stream and the catalog
 * stream. Reads go through the store directly (with its own timeouts), never on a request's path.
 */
export class ItemIndexSync {
  readonly #index: ItemIndex;
  readonly #store: RowStore & CatalogStore & ChangeFeeds;
  readonly #logger: Logger;
  readonly #rows = new ChangeFollower(MODELS.mf.changes);
  readonly #catalog = new ChangeFollower(CATALOG_STREAM);
  #registryPosition = 0;
  /** Milliseconds since the epoch of the last successful refresh (0: never). */
  lastRefresh = 0;
  loaded = false;
  /**
   * While a reload runs beside the incremental refreshes: the items those applied. The reload may
   * have read an item before a refresh applied a newer row, and then written its older copy: it
   * reads these again at its end.
   */
  #touched: Set<string> | undefined;
  #stopping = false;
  readonly #clock: () => number;
  #featuresReadAt = 0;

  constructor(
    index: ItemIndex,
    store: RowStore & CatalogStore & ChangeFeeds,
    logger: Logger,
    clock: () => number = Date.now,
  ) {
    this.#index = index;
    this.#store = store;
    this.#logger = logger;
    this.#clock = clock;
  }

  /**
   * Loads everything. Changes written meanwhile are picked up by the next refresh. A reload
   * (every load after the first) is paced: see PACED_CHUNK.
   */
  async load(): Promise<void> {
    const started = Date.now();
    const pace = new Pace(this.loaded, () => this.#stopping);
    const reload = this.loaded;
    if (reload) this.#touched = new Set();
    try {
      await this.#loadAll(pace);
      if (this.#stopping) return;
      // What the refreshes applied meanwhile, read again: the latest copy wins.
      const touched = [...(this.#touched ?? [])];
      if (touched.length > 0) {
        await this.#loadCatalog(touched, new Pace(false, () => this.#stopping));
        await this.#applyRows(touched);
      }
    } finally {
      this.#touched = undefined;
    }
    this.loaded = true;
    this.#index.trackChanges();
    this.lastRefresh = Date.now();
    this.#logger.info(
      {
        items: this.#index.size,
        features: this.#index.featureKeys().length,
        ms: Date.now() - started,
        reload,
      },
      reload ? 'item index reloaded' : 'item index loaded',
    );
    await this.#rebuildAnnIfStale();
  }

  /** Stops a load under way at its next batch (the process is stopping). */
  stop(): void {
    this.#stopping = true;
  }

  /** Reads and applies the MF rows of these items. */
  async #applyRows(ids: readonly string[]): Promise<void> {
    const index = this.#index;
    for (let start = 0; start < ids.length; start += CHUNK) {
      const chunk = ids.slice(start, start + CHUNK);
      const values = await this.#store.getRows(MF_TABLES.item, chunk);
      chunk.forEach((id, k) => index.setRow(index.ensure(id), values[k]));
    }
  }

  async #loadAll(pace: Pace): Promise<void> {
    if (!this.loaded) {
      await this.#rows.skipToEnd(this.#store);
      await this.#catalog.skipToEnd(this.#store);
    }
    const index = this.#index;
    const registry = await this.#store.getItemRegistry('mf', 0);
    this.#registryPosition = registry.length;
    for (const id of registry) index.ensure(id);
    const catalog = await this.#store.listItemIds();
    for (const id of catalog) index.ensure(id);
    await this.#loadCatalog(catalog, pace);
    await this.#readFeatureRows();
    for (let start = 0; start < index.size && !this.#stopping; start += pace.chunk) {
      const ids = Array.from({ length: Math.min(pace.chunk, index.size - start) }, (_, k) =>
        index.idAt(start + k),
      );
      const rows = await this.#store.getRows(MF_TABLES.item, ids);
      pace.begin();
      rows.forEach((row, k) => index.setRow(start + k, row));
      index.recomputeRange(start, start + pace.chunk);
      await pace.end();
    }
  }

  /**
   * Reads every feature row; returns the feature positions replaced. `tolerance`: see
   * ItemIndex.setFeatureRows (0: every row).
   */
  async #readFeatureRows(tolerance = 0): Promise<Set<number>> {
    const index = this.#index;
    const features = [...index.featureKeys()];
    const replaced = new Set<number>();
    this.#featuresReadAt = this.#clock();
    for (let start = 0; start < features.length; start += CHUNK) {
      const keys = features.slice(start, start + CHUNK);
      const rows = await this.#store.getRows(MF_TABLES.itemFeature, keys);
      for (const f of index.setFeatureRows(keys, rows, tolerance)) replaced.add(f);
    }
    return replaced;
  }

  /** Reads the feature rows again and recomputes the items whose feature rows moved (in batches). */
  async #refreshFeatures(): Promise<void> {
    const moved = await this.#readFeatureRows(FEATURE_TOLERANCE);
    if (moved.size === 0) return;
    const pace = new Pace(false, () => this.#stopping);
    for (let start = 0; start < this.#index.size && !pace.stopped(); start += pace.chunk) {
      pace.begin();
      this.#index.recomputeFeatures(moved, start, start + pace.chunk);
      await pace.end();
    }
  }

  /** Applies what changed since the last refresh: new items, trained rows, catalog changes. */
  async refresh(): Promise<{ changed: number }> {
    const index = this.#index;
    const added = await this.#store.getItemRegistry('mf', this.#registryPosition);
    this.#registryPosition += added.length;
    for (const id of added) index.ensure(id);
    const catalog = await this.#catalog.poll(this.#store);
    for (const id of catalog.ids) index.ensure(id);
    await this.#loadCatalog(catalog.ids, new Pace(false, () => this.#stopping));
    const rows = await this.#rows.poll(this.#store);
    for (const id of [...added, ...catalog.ids, ...rows.ids]) this.#touched?.add(id);
    await this.#applyRows(rows.ids);
    if (this.#clock() - this.#featuresReadAt >= FEATURE_REFRESH_MS) await this.#refreshFeatures();
    this.lastRefresh = Date.now();
    await this.#rebuildAnnIfStale();
    return { changed: added.length + catalog.ids.length + rows.ids.length };
  }

  /**
   * Adopts a newer shared build (serving.annShareDir), or starts a build in the background when
   * the index needs one (ItemIndex.annStale).
   */
  async #rebuildAnnIfStale(): Promise<void> {
    try {
      if (await this.#index.adoptSharedAnn())
        this.#logger.info({ items: this.#index.size }, 'shared ANN index adopted');
    } catch (error) {
      this.#logger.warn(
        { err: error },
        'the shared ANN index could not be adopted; waiting for the next published build',
      );
    }
    if (!this.#index.annStale(ANN_DIRTY_SHARE)) return;
    void this.#index
      .rebuildAnn()
      .catch((error: unknown) => this.#logger.error({ err: error }, 'ANN index build failed'));
  }

  async #loadCatalog(ids: readonly string[], pace: Pace): Promise<void> {
    const index = this.#index;
    for (let start = 0; start < ids.length && !pace.stopped(); start += pace.chunk) {
      const chunk = ids.slice(start, start + pace.chunk);
      const records = await this.#store.getItems(chunk);
      const missing = new Set<string>();
      pace.begin();
      chunk.forEach((id, k) => {
        for (const key of index.setCatalog(index.ensure(id), records[k])) missing.add(key);
      });
      await pace.end();
      if (missing.size > 0 && this.loaded) {
        // New features (a new tag): read their rows now so new items score sensibly at once.
        const keys = [...missing];
        index.setFeatureRows(keys, await this.#store.getRows(MF_TABLES.itemFeature, keys));
        for (const id of chunk) index.recomputeRange(index.indexOf(id), index.indexOf(id) + 1);
      }
    }
  }
}

/** Batches and pauses of a load: paced (a reload) or as fast as it goes, yielding between batches. */
class Pace {
  readonly chunk: number;
  readonly stopped: () => boolean;
  readonly #paced: boolean;
  #began = 0;

  constructor(paced: boolean, stopped: () => boolean) {
    this.#paced = paced;
    this.stopped = stopped;
    this.chunk = paced ? PACED_CHUNK : CHUNK;
  }

  /** A batch's own work starts (not the store reads before it). */
  begin(): void {
    this.#began = performance.now();
  }

  /** After a batch: a pause of PAUSE_FACTOR times its work when paced, else a turn of the event loop. */
  end(): Promise<void> {
    const took = performance.now() - this.#began;
    return new Promise((resolve) => {
      if (this.#paced && !this.stopped()) setTimeout(resolve, Math.min(1_000, PAUSE_FACTOR * took));
      else setImmediate(resolve);
    });
  }
}
