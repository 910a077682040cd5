import { MODELS, NEUMF_TABLES } from '../../../shared/model/registry.ts';
import { ContextEncoder, type Context } from '../../../shared/model/context.ts';
import { EmbeddingTable } from '../../../shared/model/embedding-table.ts';
import { grown } from '../../../shared/model/stamps.ts';
import { DENSE_COUNTER, DENSE_TABLE, chunkIds } from '../../../shared/model/neumf/dense-layout.ts';
import {
  itemFirstLayer,
  scoreCandidates,
  towerSize,
  unflattenTower,
  type TowerShape,
  type TowerWeights,
} from '../../../shared/model/neumf/js-forward.ts';
import type { NeuMfConfig } from '../../../shared/model/neumf/neumf.ts';
import { SimdTower, simdTowerSupported } from '../../../shared/model/neumf/tower-simd.ts';
import type { Logger } from '../../../shared/observability/index.ts';
import type { ChangeFeeds, RowStore, Row } from '../../../shared/ports/index.ts';
import { ChangeFollower } from '../index/change-follower.ts';

const CHUNK = 1_000;

/**
 * Serving's copy of NeuMF's item side and dense tower, for re-ranking candidates with the request
 * context in plain JavaScript (shared/model/neumf/js-forward.ts): item GMF and MLP rows, context
 * rows and the tower weights, refreshed from the `neumf` change stream and the tower's publication
 * counter. Re-ranking is off until a tower of the configured shape has been published.
 */
export class NeumfScorer {
  readonly config: NeuMfConfig;
  readonly encoder: ContextEncoder;
  readonly shape: TowerShape;
  readonly gmfItems: EmbeddingTable;
  readonly mlpItems: EmbeddingTable;
  readonly contexts: EmbeddingTable;
  weights: TowerWeights | undefined;
  denseVersion = 0;
  readonly #store: RowStore & ChangeFeeds;
  readonly #logger: Logger;
  readonly #items = new ChangeFollower(MODELS.neumf.changes);
  readonly #contextKeys = new Set<string>();
  readonly #pendingContexts = new Set<string>();
  #registryPosition = 0;
  #shapeWarned = false;
  /**
   * Per MLP item row: its first-layer share (itemFirstLayer, `units` floats), valid while its
   * stamp equals the tower generation (a new tower or a new row makes it stale). Costs the first
   * layer's width in floats per item re-ranked so far.
   */
  #firstLayer = new Float32Array(0);
  #firstStamp = new Uint32Array(0);
  #towerGeneration = 1;
  /** The SIMD tower for the current weights (undefined: widths not multiples of 4, plain JS). */
  #simd: { weights: TowerWeights; tower: SimdTower | undefined } | undefined;
  /** Caller positions (e.g. serving's item index) to GMF and MLP rows, plus one (0: not looked up). */
  #gmfAt = new Int32Array(0);
  #mlpAt = new Int32Array(0);
  lastRefresh = 0;
  loaded = false;

  constructor(config: NeuMfConfig, store: RowStore & ChangeFeeds, logger: Logger) {
    this.config = config;
    this.#store = store;
    this.#logger = logger;
    this.encoder = new ContextEncoder({ fields: config.contextFields });
    const contextWidth = config.contextDim > 0 ? this.encoder.fields.length * config.contextDim : 0;
    this.shape = { gmfDim: config.gmfDim, mlpDim: config.mlpDim, contextWidth, hidden: config.hidden };
    const table = (name: string, dim: number) =>
      new EmbeddingTable({ name, dim, seed: config.seed, initStd: config.initStd, adagrad: false });
    this.gmfItems = table(NEUMF_TABLES.gmfItem, config.gmfDim);
    this.mlpItems = table(NEUMF_TABLES.mlpItem, config.mlpDim);
    this.contexts = table(NEUMF_TABLES.context, Math.max(1, config.contextDim));
  }

  /** True once a tower of the configured shape is loaded. */
  get ready(): boolean {
    return this.weights !== undefined;
  }

  /**
   * The request's context embeddings, concatenated in field order. Keys never seen are read in the
   * background; until then they use the initial row the trainer would start from.
   */
  contextVector(context: Context | undefined, now: number): Float32Array {
    const out = new Float32Array(this.shape.contextWidth);
    if (this.shape.contextWidth === 0) return out;
    const dim = this.config.contextDim;
    this.encoder.encode(context, now).forEach((key, f) => {
      let index = this.contexts.indexOf(key);
      if (index < 0) {
        if (this.#contextKeys.size < 100_000) {
          index = this.contexts.ensure(key);
          this.#contextKeys.add(key);
          this.#pendingContexts.add(key);
        } else {
          out.set(this.contexts.initialRow(key), f * dim);
          return;
        }
      }
      out.set(this.contexts.row(index), f * dim);
    });
    return out;
  }

  /**
   * Logits of candidate items for a user's rows under a context vector, into `out`. Items the
   * trainer never wrote score from their initial rows.
   */
  score(
    userGmf: Float32Array,
    userMlp: Float32Array,
    context: Float32Array,
    itemIds: readonly string[],
    out: Float32Array,
  ): Float32Array {
    const gmf = Int32Array.from(itemIds, (id) => this.gmfItems.ensure(id));
    const mlp = Int32Array.from(itemIds, (id) => this.mlpItems.ensure(id));
    return this.#score(userGmf, userMlp, context, gmf, mlp, out);
  }

  /**
   * `score` for items named by the caller's stable positions (serving's item index: a position
   * always names the same id), so that the id lookups happen once per item, not per request.
   */
  scorePositions(
    userGmf: Float32Array,
    userMlp: Float32Array,
    context: Float32Array,
    positions: ArrayLike<number>,
    idAt: (position: number) => string,
    out: Float32Array,
  ): Float32Array {
    const count = positions.length;
    const gmf = new Int32Array(count);
    const mlp = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      const p = positions[k] as number;
      if (p >= this.#gmfAt.length) {
        this.#gmfAt = grown(this.#gmfAt, Math.max(1_024, 2 * (p + 1)));
        this.#mlpAt = grown(this.#mlpAt, this.#gmfAt.length);
      }
      if (this.#gmfAt[p] === 0) {
        const id = idAt(p);
        this.#gmfAt[p] = this.gmfItems.ensure(id) + 1;
        this.#mlpAt[p] = this.mlpItems.ensure(id) + 1;
      }
      gmf[k] = (this.#gmfAt[p] as number) - 1;
      mlp[k] = (this.#mlpAt[p] as number) - 1;
    }
    return this.#score(userGmf, userMlp, context, gmf, mlp, out);
  }

  #score(
    userGmf: Float32Array,
    userMlp: Float32Array,
    context: Float32Array,
    gmf: Int32Array,
    mlp: Int32Array,
    out: Float32Array,
  ): Float32Array {
    const weights = this.weights;
    if (weights === undefined) throw new RangeError('NeuMF tower not loaded');
    const units = weights.layers[0]?.units ?? 0;
    const rows = this.mlpItems.size;
    if (this.#firstStamp.length < rows) {
      const capacity = Math.max(1_024, 2 * rows);
      this.#firstStamp = grown(this.#firstStamp, capacity);
      const layer = new Float32Array(capacity * units);
      layer.set(this.#firstLayer);
      this.#firstLayer = layer;
    }
    for (const row of mlp) {
      if (this.#firstStamp[row] === this.#towerGeneration) continue;
      itemFirstLayer(
        this.shape,
        weights,
        this.mlpItems.row(row),
        this.#firstLayer.subarray(row * units, (row + 1) * units),
      );
      this.#firstStamp[row] = this.#towerGeneration;
    }
    if (this.#simd?.weights !== weights) {
      this.#simd = {
        weights,
        tower: simdTowerSupported(weights) ? new SimdTower(this.shape, weights) : undefined,
      };
    }
    const tower = this.#simd.tower;
    if (tower !== undefined) {
      return tower.score(
        userGmf,
        userMlp,
        context,
        gmf.length,
        this.gmfItems.vectors,
        gmf,
        this.#firstLayer,
        mlp,
        out,
      );
    }
    return scoreCandidates(
      this.shape,
      weights,
      userGmf,
      userMlp,
      context,
      gmf.length,
      (k) => this.gmfItems.row(gmf[k] as number),
      (k) => this.mlpItems.row(mlp[k] as number),
      out,
      (k) => {
        const row = mlp[k] as number;
        return this.#firstLayer.subarray(row * units, (row + 1) * units);
      },
    );
  }

  /** The initial user rows (a user NeuMF never trained). */
  initialUser(userId: string): { gmf: Float32Array; mlp: Float32Array } {
    const c = this.config;
    const table = (name: string, dim: number) =>
      new EmbeddingTable({ name, dim, seed: c.seed, initStd: c.initStd, adagrad: false });
    return {
      gmf: table(NEUMF_TABLES.gmfUser, c.gmfDim).initialRow(userId),
      mlp: table(NEUMF_TABLES.mlpUser, c.mlpDim).initialRow(userId),
    };
  }

  async load(): Promise<void> {
    if (!this.loaded) await this.#items.skipToEnd(this.#store);
    const ids = await this.#store.getItemRegistry('neumf', 0);
    this.#registryPosition = ids.length;
    await this.#loadItems(ids);
    await this.#loadTower();
    await this.#loadContexts([...this.#contextKeys]);
    this.loaded = true;
    this.lastRefresh = Date.now();
  }

  async refresh(): Promise<{ changed: number }> {
    const added = await this.#store.getItemRegistry('neumf', this.#registryPosition);
    this.#registryPosition += added.length;
    const changed = await this.#items.poll(this.#store);
    await this.#loadItems([...new Set([...added, ...changed.ids])]);
    await this.#loadTower();
    if (this.#pendingContexts.size > 0) {
      const keys = [...this.#pendingContexts];
      this.#pendingContexts.clear();
      await this.#loadContexts(keys);
    }
    this.lastRefresh = Date.now();
    return { changed: added.length + changed.ids.length };
  }

  /** Re-reads every context row (they change slowly: called with the full reload). */
  async reloadContexts(): Promise<void> {
    await this.#loadContexts([...this.#contextKeys]);
  }

  async #loadItems(ids: readonly string[]): Promise<void> {
    for (let start = 0; start < ids.length; start += CHUNK) {
      const chunk = ids.slice(start, start + CHUNK);
      const [gmf, mlp] = await Promise.all([
        this.#store.getRows(NEUMF_TABLES.gmfItem, chunk),
        this.#store.getRows(NEUMF_TABLES.mlpItem, chunk),
      ]);
      chunk.forEach((id, k) => {
        setRow(this.gmfItems, id, gmf[k]);
        const row = setRow(this.mlpItems, id, mlp[k]);
        // Its first-layer share is stale now.
        if (row >= 0 && row < this.#firstStamp.length) this.#firstStamp[row] = 0;
      });
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async #loadContexts(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += CHUNK) {
      const chunk = keys.slice(start, start + CHUNK);
      const rows = await this.#store.getRows(NEUMF_TABLES.context, chunk);
      chunk.forEach((key, k) => setRow(this.contexts, key, rows[k]));
    }
  }

  async #loadTower(): Promise<void> {
    const [version = 0] = await this.#store.getCounters(DENSE_COUNTER, ['version']);
    if (version === this.denseVersion && this.weights !== undefined) return;
    const size = towerSize(this.shape);
    const rows = await this.#store.getRows(DENSE_TABLE, chunkIds(size));
    if (rows.some((row) => row === undefined)) return; // not published yet
    const flat = new Float32Array(rows.reduce((n, row) => n + (row as Row).vector.length, 0));
    let offset = 0;
    for (const row of rows as Row[]) {
      flat.set(row.vector, offset);
      offset += row.vector.length;
    }
    if (flat.length !== size) {
      if (!this.#shapeWarned) {
        this.#logger.error(
          { stored: flat.length, expected: size },
          'the stored NeuMF tower does not match model.neumf (dims, hidden, context fields): re-ranking is off until they agree',
        );
        this.#shapeWarned = true;
      }
      this.weights = undefined;
      return;
    }
    this.weights = unflattenTower(this.shape, flat);
    this.denseVersion = version;
    this.#towerGeneration = (this.#towerGeneration % 0xffff_fffe) + 1; // every first-layer share is stale
  }
}

/** Copies a stored row into a table; returns the row's index (-1: nothing stored). */
function setRow(table: EmbeddingTable, id: string, row: Row | undefined): number {
  if (row === undefined) return -1;
  const index = table.ensure(id);
  table.row(index).set(row.vector.subarray(0, table.dim));
  return index;
}
