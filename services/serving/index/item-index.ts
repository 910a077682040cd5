import { MF_TABLES } from '../../../shared/model/registry.ts';
import type { ContentIndex } from '../../../shared/model/content-similarity.ts';
import { DotScan } from '../../../shared/model/dot-scan.ts';
import { initialVector } from '../../../shared/model/random.ts';
import { selectTopK, selectTopKOf, type TopKResult } from '../../../shared/model/topk.ts';
import type { CatalogRecord, Row } from '../../../shared/ports/index.ts';
import type { AnnParams } from './ann-index.ts';
import type { AnnShare } from './ann-share.ts';
import { ItemAnn } from './item-ann.ts';
import { ItemCatalog } from './item-catalog.ts';
import { ItemFeatureRows } from './item-feature-rows.ts';

export interface ItemIndexOptions {
  /** MF dimension, seed and initial spread: a row the trainer never wrote starts as it would. */
  readonly dim: number;
  readonly seed: number;
  readonly initStd: number;
  /** Above this many items, MF candidates come from the HNSW index. */
  readonly annThreshold: number;
  readonly annParams?: AnnParams;
  /** Builds shared with other serving processes (serving.annShareDir); undefined: build alone. */
  readonly annShare?: AnnShare;
}

/**
 * Serving's in-memory copy of the MF item side: for every item its composite vector (id row plus
 * the mean of its feature rows, as the trainer computes it), bias, interaction count, catalog
 * flags and categories, and a content index over its features. Requests score against it without
 * touching the store; ItemIndexSync keeps it current from the trainer's change stream.
 *
 * Items live at stable positions (never reused), so rankings can hold positions.
 */
export class ItemIndex {
  readonly dim: number;
  /** Bumped on every applied change: part of modelVersion. */
  version = 0;
  /** Flags, categories and the content index (item-catalog.ts). */
  readonly #catalog = new ItemCatalog();
  /** Feature rows and each item's features (item-feature-rows.ts). */
  readonly #features: ItemFeatureRows;
  readonly #options: ItemIndexOptions;
  readonly #positions = new Map<string, number>();
  readonly #ids: string[] = [];
  #capacity = 0;
  #idRows = new Float32Array(0);
  /**
   * Composite vectors with the bias appended (rows of dim + 1, padded to a multiple of 4), in
   * WebAssembly memory where the SIMD scan reads them.
   */
  readonly #dots: DotScan;
  readonly #stride: number;
  #biases = new Float32Array(0);
  #counts = new Float64Array(0);
  #norms = new Float32Array(0);
  /** The HNSW index over a snapshot of the vectors, and what changed since (item-ann.ts). */
  readonly #ann: ItemAnn;
  /** Scratch of #recompute and of the query builders. */
  #scratch = new Float32Array(0);
  readonly #query: Float32Array;

  constructor(options: ItemIndexOptions) {
    this.#options = options;
    this.dim = options.dim;
    this.#features = new ItemFeatureRows(options.dim, options.seed, options.initStd);
    this.#dots = new DotScan(options.dim + 1, 1_024);
    this.#stride = this.#dots.width;
    this.#query = new Float32Array(this.#stride);
    this.#grow(1_024);
    this.#ann = new ItemAnn(this, options);
  }

  get size(): number {
    return this.#ids.length;
  }

  /** True while MF candidates come from the ANN index. */
  get annActive(): boolean {
    return this.#ann.active;
  }

  indexOf(id: string): number {
    return this.#positions.get(id) ?? -1;
  }

  idAt(position: number): string {
    return this.#ids[position] as string;
  }

  /** The position of an item, adding it (with the row the trainer would start from) when new. */
  ensure(id: string): number {
    const found = this.#positions.get(id);
    if (found !== undefined) return found;
    const position = this.#ids.length;
    if (position >= this.#capacity) this.#grow(Math.max(1_024, this.#capacity * 2));
    this.#ids.push(id);
    this.#positions.set(id, position);
    const { seed, initStd } = this.#options;
    if (initStd > 0) initialVector(this.#idRow(position), seed, MF_TABLES.item, id, initStd);
    this.#recompute(position);
    return position;
  }

  /** Applies the trainer's row of an item (undefined: the item has no row yet). */
  setRow(position: number, row: Row | undefined): void {
    if (row === undefined) return;
    this.#idRow(position).set(row.vector.subarray(0, this.dim));
    this.#biases[position] = row.bias;
    this.#counts[position] = row.count;
    this.#recompute(position);
  }

  /**
   * Applies an item's catalog record (undefined: deleted). Returns the feature keys whose rows are
   * not loaded yet (the caller reads them and calls setFeatureRows).
   */
  setCatalog(position: number, record: CatalogRecord | undefined): string[] {
    const features = this.#catalog.set(position, record);
    if (features === undefined) return [];
    const missing = this.#features.assign(position, record === undefined ? [] : features);
    this.#recompute(position);
    return missing;
  }

  /** The content index over the items' features. */
  get content(): ContentIndex {
    return this.#catalog.content;
  }

  /** Bumped on every change of an item's content features. */
  get catalogVersion(): number {
    return this.#catalog.version;
  }

  /** Calls `listener` with the position of every item whose content features change from now on. */
  onContentChange(listener: (position: number) => void): void {
    this.#catalog.onContentChange(listener);
  }

  /** Sets feature rows (ItemFeatureRows.setRows); recompute the items that use them after. */
  setFeatureRows(keys: readonly string[], rows: readonly (Row | undefined)[], tolerance = 0): number[] {
    return this.#features.setRows(keys, rows, tolerance);
  }

  /** Recomputes the vectors of the items in [from, to) that have one of the `features` positions. */
  recomputeFeatures(features: ReadonlySet<number>, from: number, to: number): void {
    for (let i = from; i < Math.min(to, this.size); i++)
      if (this.#features.uses(i, features)) this.#recompute(i);
  }

  /** Every feature key the index knows. */
  featureKeys(): readonly string[] {
    return this.#features.keys();
  }

  /** True when the item's MF vector has feature rows (it says something before any interaction). */
  hasFeatureRows(position: number): boolean {
    return this.#features.count(position) > 0;
  }

  /** Recomputes composite vectors of positions [from, to) (after feature rows changed). */
  recomputeRange(from: number, to: number): void {
    for (let i = from; i < Math.min(to, this.size); i++) if (this.#features.count(i) > 0) this.#recompute(i);
  }

  /** True when an item may be recommended: known to the catalog or trained, not hidden or deleted. */
  servable(position: number): boolean {
    return this.#catalog.servable(position);
  }

  hidden(position: number): boolean {
    return this.#catalog.hidden(position);
  }

  deleted(position: number): boolean {
    return this.#catalog.deleted(position);
  }

  count(position: number): number {
    return this.#counts[position] as number;
  }

  categories(position: number): readonly string[] {
    return this.#catalog.categories(position);
  }

  /** Positions of the items of a category. */
  inCategory(category: string): ReadonlySet<number> {
    return this.#catalog.inCategory(category);
  }

  /** Euclidean norm of an item's composite vector. */
  norm(position: number): number {
    return this.#norms[position] as number;
  }

  /** A live view of an item's composite vector. */
  vector(position: number): Float32Array {
    const base = position * this.#stride;
    return this.#dots.matrix.subarray(base, base + this.dim);
  }

  /** u . v_i + b_i, computed as the scans compute it (f32, SIMD). */
  score(query: Float32Array, position: number, withBias = true): number {
    return this.#dots.gather(this.#queryOf(query, withBias), [position], 1)[0] as number;
  }

  /**
   * u . v_i + b_i for `count` positions, into `out` (one SIMD gather: cheaper than `score` per
   * item beyond a handful).
   */
  scoresInto(
    query: Float32Array,
    positions: ArrayLike<number>,
    count: number,
    out: { [i: number]: number },
    withBias = true,
  ): void {
    const scores = this.#dots.gather(this.#queryOf(query, withBias), positions, count);
    for (let j = 0; j < count; j++) out[j] = scores[j] as number;
  }

  /**
   * The k items with the largest u . v + b, skipping `skip`: an exact scan (of `within` when
   * given, e.g. a category), or the ANN index plus the items changed since it was built, re-scored
   * exactly.
   */
  top(
    query: Float32Array,
    k: number,
    skip: (position: number) => boolean,
    within?: ReadonlySet<number>,
    withBias = true,
  ): TopKResult {
    if (within !== undefined) {
      const positions = Int32Array.from(within);
      const scores = this.#dots.gather(this.#queryOf(query, withBias), positions, positions.length);
      return selectTopKOf(scores, positions, k, positions.length, skip);
    }
    // A margin for items the filter drops (a user's seen items, exclusions): k + 128, not 4k, which
    // at k = 200 made every search ask a million-item graph for 800 neighbours.
    const found = this.#ann.candidates(query, Math.max(k + 128, 100), withBias);
    if (found === undefined) {
      // Exact: a SIMD scan of the whole matrix, then the best k that pass the filter.
      if (this.size === 0 || k <= 0) return { indices: new Int32Array(0), scores: new Float32Array(0) };
      return this.#dots.top(this.#queryOf(query, withBias), this.size, k, skip);
    }
    return this.top(query, k, skip, found, withBias);
  }

  /** The scan's query: the vector, then 1 (or 0) against the bias column, then zeros. */
  #queryOf(query: Float32Array, withBias: boolean): Float32Array {
    const q = this.#query;
    q.set(query.subarray(0, this.dim));
    q[this.dim] = withBias ? 1 : 0;
    return q;
  }

  /** The k items closest to an item by the cosine of their composite vectors. */
  similar(position: number, k: number, skip: (position: number) => boolean): TopKResult {
    const qn = this.#norms[position] as number;
    if (qn === 0) return { indices: new Int32Array(0), scores: new Float32Array(0) };
    const exclude = (p: number) => p === position || skip(p);
    const query = this.#queryOf(this.vector(position), false);
    let positions: Int32Array | undefined;
    let dots: Float32Array;
    const found = this.#ann.candidates(this.vector(position), Math.max(8 * k, 200), false);
    if (found === undefined) {
      dots = this.#dots.scan(query, this.size);
    } else {
      positions = Int32Array.from(found);
      dots = this.#dots.gather(query, positions, positions.length);
    }
    const n = dots.length;
    const cosines = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      const norm = this.#norms[positions === undefined ? j : (positions[j] as number)] as number;
      cosines[j] = norm === 0 ? 0 : (dots[j] as number) / (norm * qn);
    }
    return positions === undefined
      ? selectTopK(cosines, k, n, exclude)
      : selectTopKOf(cosines, positions, k, n, exclude);
  }

  /** The item biases of positions [0, count) (a copy). */
  biases(count: number): Float32Array {
    return this.#biases.slice(0, count);
  }

  /** Builds (or rebuilds) the ANN index when the catalog is above the threshold (ItemAnn.rebuild). */
  rebuildAnn(force = false): Promise<void> {
    return this.#ann.rebuild(force);
  }

  /** Maps a newer shared build (ItemAnn.adoptShared); resolves true when it adopted one. */
  adoptSharedAnn(): Promise<boolean> {
    return this.#ann.adoptShared();
  }

  /** With a shared build: from now on (the first full load is done), changes are remembered. */
  trackChanges(): void {
    this.#ann.trackChanges();
  }

  /** Items changed since the ANN snapshot (large: time to rebuild). */
  get annDirty(): number {
    return this.#ann.dirty;
  }

  /** HNSW builds this index completed. */
  get annBuilds(): number {
    return this.#ann.builds;
  }

  /** True when rebuildAnn has work to do (ItemAnn.stale). */
  annStale(dirtyShare: number): boolean {
    return this.#ann.stale(dirtyShare);
  }

  close(): void {
    this.#ann.close();
  }

  #idRow(position: number): Float32Array {
    return this.#idRows.subarray(position * this.dim, (position + 1) * this.dim);
  }

  /**
   * Recomputes an item's composite vector (id row plus the mean of its feature rows) and bias
   * column. Only a real change counts as one (version, ANN dirty set): a periodic full reload
   * re-applies every row, and marking all of them changed would send every query to an exact
   * scan of the whole catalog and start an index rebuild.
   */
  #recompute(position: number): void {
    const dim = this.dim;
    const next = this.#scratch.length === dim ? this.#scratch : (this.#scratch = new Float32Array(dim));
    next.set(this.#idRow(position));
    this.#features.addMeanTo(next, position);
    const matrix = this.#dots.matrix;
    const out = this.vector(position);
    const biasAt = position * this.#stride + dim;
    const bias = this.#biases[position] as number;
    let changed = matrix[biasAt] !== bias;
    for (let d = 0; d < dim && !changed; d++) changed = out[d] !== next[d];
    if (!changed) return;
    out.set(next);
    matrix[biasAt] = bias;
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += (out[d] as number) ** 2;
    this.#norms[position] = Math.sqrt(norm);
    this.#ann.changed(position);
    this.version++;
  }

  #grow(capacity: number): void {
    const grow = <T extends Float32Array | Float64Array | Uint8Array>(
      old: T,
      size: number,
      make: (n: number) => T,
    ): T => {
      const next = make(size);
      next.set(old as never);
      return next;
    };
    this.#idRows = grow(this.#idRows, capacity * this.dim, (n) => new Float32Array(n));
    this.#dots.reserve(capacity);
    this.#biases = grow(this.#biases, capacity, (n) => new Float32Array(n));
    this.#counts = grow(this.#counts, capacity, (n) => new Float64Array(n));
    this.#norms = grow(this.#norms, capacity, (n) => new Float32Array(n));
    this.#catalog.reserve(capacity);
    this.#capacity = capacity;
  }
}
