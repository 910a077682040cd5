import { AnnIndex, DEFAULT_ANN_PARAMS, type AnnParams } from './ann-index.ts';
import type { AnnShare } from './ann-share.ts';

/** Ids of a shared build translated between two turns of the event loop. */
const ADOPT_CHUNK = 50_000;

/** What the ANN state reads of its item index. */
export interface AnnItems {
  readonly size: number;
  readonly dim: number;
  vector(position: number): Float32Array;
  /** The item biases of positions [0, count). */
  biases(count: number): Float32Array;
  idAt(position: number): string;
  indexOf(id: string): number;
}

export interface ItemAnnOptions {
  readonly annThreshold: number;
  readonly annParams?: AnnParams;
  readonly annShare?: AnnShare;
}

/**
 * The item index's HNSW side: the index over a snapshot of the vectors (built here in a worker,
 * or adopted from a shared build), and what it does not hold, searched exactly next to it: the
 * positions added after its snapshot and the items changed since (with the time of the change).
 */
export class ItemAnn {
  readonly #items: AnnItems;
  readonly #options: ItemAnnOptions;
  #ann: AnnIndex | undefined;
  /** Positions from here on are not in the ANN index (added after its snapshot). */
  #newFrom = 0;
  /**
   * Items changed since the ANN snapshot, with the time of the change. Tracked while an index
   * exists or is building, and (for adopting a shared build) once the first full load is done.
   */
  readonly #dirty = new Map<number, number>();
  #build: Promise<void> | undefined;
  #trackChanges = false;
  /** HNSW builds completed. */
  builds = 0;
  /** The shared build in use (its id), so that one is adopted once. */
  #adopted: string | undefined;
  /** The last shared build tried, and whether one is being adopted now. */
  #triedBuild: string | undefined;
  #adopting = false;

  constructor(items: AnnItems, options: ItemAnnOptions) {
    this.#items = items;
    this.#options = options;
  }

  get active(): boolean {
    return this.#ann !== undefined;
  }

  /** Items changed since the ANN snapshot (large: time to rebuild). */
  get dirty(): number {
    return this.#dirty.size;
  }

  /** An item's vector changed: searched exactly until the next index holds it. */
  changed(position: number): void {
    if (this.#ann !== undefined || this.#build !== undefined || this.#trackChanges)
      this.#dirty.set(position, Date.now());
  }

  /**
   * The positions to score exactly for a query: the index's `k` nearest plus every item it does
   * not hold; undefined without an index (scan everything).
   */
  candidates(query: Float32Array, k: number, withBias: boolean): Set<number> | undefined {
    const ann = this.#ann;
    if (ann === undefined) return undefined;
    const found = new Set<number>(ann.search(query, k, withBias));
    for (const p of this.#dirty.keys()) found.add(p);
    for (let p = this.#newFrom; p < this.#items.size; p++) found.add(p);
    return found;
  }

  /**
   * Builds (or rebuilds) the ANN index over a snapshot when the catalog is above the threshold,
   * in a worker; requests keep using the previous index (or exact scans) until it is ready.
   */
  rebuild(force = false): Promise<void> {
    if (this.#build !== undefined) return this.#build;
    if (this.#items.size <= this.#options.annThreshold && !force) {
      this.#ann?.close();
      this.#ann = undefined;
      this.#adopted = undefined;
      return Promise.resolve();
    }
    const share = this.#options.annShare;
    if (share !== undefined && !share.builder) return Promise.resolve();
    const count = this.#items.size;
    const snapshotAt = Date.now();
    const vectors = new Float32Array(count * this.#items.dim);
    for (let p = 0; p < count; p++) vectors.set(this.#items.vector(p), p * this.#items.dim);
    const biases = this.#items.biases(count);
    const params = this.#options.annParams ?? DEFAULT_ANN_PARAMS;
    const folder = share?.newBuildDir();
    this.#build = AnnIndex.build(vectors, biases, count, this.#items.dim, params, folder?.dir)
      .then((ann) => {
        if (share !== undefined && folder !== undefined) {
          const ids = Array.from({ length: count }, (_, p) => this.#items.idAt(p));
          // Items changed while it was building are not in it: adopters search them exactly too.
          const changed: string[] = [];
          for (const [p, at] of this.#dirty)
            if (at >= snapshotAt && p < count) changed.push(this.#items.idAt(p));
          share.publish({ id: folder.id, count, dim: this.#items.dim, snapshotAt }, ids, changed);
          this.#adopted = folder.id;
        }
        this.#activate(ann, count, snapshotAt);
        this.builds++;
      })
      .finally(() => {
        this.#build = undefined;
      });
    return this.#build;
  }

  /**
   * Maps the shared build another process (or this one before a restart) published, when it is
   * newer than the one in use. Its keys are translated by item id, in chunks between which requests
   * run (a million ids take a few hundred milliseconds); items it does not have, and the ones
   * changed since its snapshot, are searched exactly. Resolves true when it adopted one.
   */
  async adoptShared(): Promise<boolean> {
    const share = this.#options.annShare;
    if (
      share === undefined ||
      this.#adopting ||
      this.#build !== undefined ||
      this.#items.size <= this.#options.annThreshold
    )
      return false;
    const info = share.current();
    if (info === undefined || info.id === this.#adopted || info.id === this.#triedBuild) return false;
    // Tried once: a build that cannot be mapped (removed, truncated, another dimension) is not
    // retried at every refresh; the next published build is.
    this.#triedBuild = info.id;
    if (info.dim !== this.#items.dim)
      throw new Error(
        `the shared build ${info.id} has dimension ${info.dim}, this process ${this.#items.dim}`,
      );
    this.#adopting = true;
    try {
      const files = await share.files(info);
      const positions = new Int32Array(info.count);
      for (let from = 0; from < info.count; from += ADOPT_CHUNK) {
        const to = Math.min(info.count, from + ADOPT_CHUNK);
        for (let key = from; key < to; key++) positions[key] = this.#items.indexOf(files.ids[key] as string);
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (this.#build !== undefined) return false; // this process started building meanwhile
      const ann = AnnIndex.open(
        files.index,
        info.count,
        this.#items.dim,
        this.#options.annParams ?? DEFAULT_ANN_PARAMS,
        positions,
      );
      const now = Date.now();
      const newFrom = this.#items.size;
      const covered = new Uint8Array(newFrom);
      for (const p of positions) if (p >= 0) covered[p] = 1;
      this.#activate(ann, newFrom, info.snapshotAt);
      for (let p = 0; p < newFrom; p++) if (covered[p] === 0) this.#dirty.set(p, now);
      for (const id of files.changed) {
        const p = this.#items.indexOf(id);
        if (p >= 0) this.#dirty.set(p, now);
      }
      this.#adopted = info.id;
      return true;
    } finally {
      this.#adopting = false;
    }
  }

  /**
   * With a shared build: from now on (the first full load is done), changes are remembered, so
   * that the ones after a build's snapshot are searched exactly once it is adopted.
   */
  trackChanges(): void {
    if (this.#options.annShare !== undefined) this.#trackChanges = true;
  }

  /** Puts an index in use: positions from `newFrom` are not in it, nor changes from `snapshotAt` on. */
  #activate(ann: AnnIndex, newFrom: number, snapshotAt: number): void {
    this.#ann?.close();
    this.#ann = ann;
    this.#newFrom = newFrom;
    for (const [p, at] of this.#dirty) if (at < snapshotAt) this.#dirty.delete(p);
  }

  /**
   * True when rebuild has work to do: the catalog crossed the threshold (either way), or more
   * than `dirtyShare` of the items (at least 1,000) changed since the index was built. Changed
   * items are scored exactly next to the index until then, so a rebuild is never urgent, and a
   * large catalog's build takes minutes of a core: rebuilding on every full reload would keep a
   * core busy for nothing.
   */
  stale(dirtyShare: number): boolean {
    if (this.#build !== undefined) return false;
    if (this.#options.annShare !== undefined && !this.#options.annShare.builder) return false;
    if (this.#items.size <= this.#options.annThreshold) return this.#ann !== undefined;
    return this.#ann === undefined || this.#dirty.size > Math.max(1_000, dirtyShare * this.#items.size);
  }

  close(): void {
    this.#ann?.close();
    this.#ann = undefined;
    this.#adopted = undefined;
  }
}
