import {
  bprDots,
  bprStepContext,
  bprStepPlain,
  type BprDots,
  type BprRows,
  type ContextScratch,
  type ContextStepRows,
} from './bpr-kernel.ts';
import type { EmbeddingTable } from './embedding-table.ts';
import type { FeatureLists } from './feature-lists.ts';
import type { ContextRows, HybridMfConfig, Interaction } from './hybrid-mf-config.ts';
import { dot, sigmoid, softplus } from './math.ts';
import type { NegativeSampler } from './negative-sampler.ts';
import { updateRow, updateScalar } from './optimizer.ts';

/** What the steps read and write of a model (HybridMF). */
export interface MfModelRows {
  readonly users: EmbeddingTable;
  readonly items: EmbeddingTable;
  readonly userFeatures: EmbeddingTable;
  readonly itemFeatures: EmbeddingTable;
  readonly contexts: EmbeddingTable;
  readonly userContexts: EmbeddingTable;
  readonly userLists: FeatureLists;
  readonly itemLists: FeatureLists;
  readonly sampler: NegativeSampler;
  ratingSum: number;
  ratingCount: number;
  queryVector(user: number, context: ContextRows | undefined, out: Float32Array): Float32Array;
  itemVector(item: number, out: Float32Array): Float32Array;
}

/**
 * The learning steps of hybrid MF: BPR (fused kernels for the common cases), logistic, negative
 * feedback and ratings. Each computes its scores first and writes only when they are finite, then
 * updates the composite rows (id row, feature rows, context rows) with their shares of the
 * gradient. Holds the scratch buffers every step reuses.
 */
export class MfSteps {
  readonly #m: MfModelRows;
  readonly #config: HybridMfConfig;
  readonly #u: Float32Array;
  readonly #vi: Float32Array;
  readonly #vj: Float32Array;
  readonly #gU: Float32Array;
  readonly #negItems: Int32Array;
  readonly #negCoef: Float64Array;
  #given: ArrayLike<number> | undefined;
  /** The context rows of the step being learnt. */
  #context: ContextRows | undefined;
  readonly #bprRows: BprRows;
  readonly #bprDots: BprDots = { uu: 0, ii: 0, jj: 0, ui: 0, uj: 0, ij: 0 };
  readonly #contextRows: ContextStepRows = {
    count: 0,
    vectors: [],
    accum: [],
    index: new Int32Array(16),
    alpha: new Float64Array(16),
  };
  readonly #contextScratch: ContextScratch = {
    q: new Float32Array(0),
    delta: new Float32Array(0),
    rr: new Float64Array(16),
    rd: new Float64Array(16),
    diff: 0,
  };

  constructor(model: MfModelRows, config: HybridMfConfig) {
    this.#m = model;
    this.#config = config;
    const dim = config.dim;
    this.#u = new Float32Array(dim);
    this.#vi = new Float32Array(dim);
    this.#vj = new Float32Array(dim);
    this.#gU = new Float32Array(dim);
    const n = Math.max(1, config.negatives);
    this.#negItems = new Int32Array(n);
    this.#negCoef = new Float64Array(n);
    this.#bprRows = {
      users: model.users.vectors,
      userAccum: model.users.accum,
      items: model.items.vectors,
      itemAccum: model.items.accum,
      dim,
    };
  }

  /**
   * Learns one interaction in `context` (undefined: none). Returns its loss, or NaN when the step
   * was rejected. `negatives` replaces the sampler (see HybridMF.learn).
   */
  learn(x: Interaction, context: ContextRows | undefined, negatives?: ArrayLike<number>): number {
    this.#given = negatives;
    this.#context = context;
    return x.kind === 'explicit'
      ? this.#learnRating(x)
      : x.weight > 0
        ? this.#config.loss === 'bpr'
          ? this.#learnBpr(x)
          : this.#learnLogistic(x)
        : this.#learnNegative(x);
  }

  // --- implicit: BPR -------------------------------------------------------------------------
  //
  // Rows are finite by construction (every update is checked), so a step whose scores are finite
  // has finite gradients: each step checks its scores before writing anything, then applies.

  #learnBpr(x: Interaction): number {
    if (
      this.#negativeCount() === 1 &&
      this.#m.userLists.ids[x.user] === undefined &&
      this.#m.itemLists.ids[x.item] === undefined
    ) {
      const j = this.#negative(0, x);
      if (j >= 0 && j !== x.item && this.#m.itemLists.ids[j] === undefined)
        return this.#context === undefined ? this.#learnBprPlain(x, j) : this.#learnBprContext(x, j);
      return this.#learnBprGeneral(x, j);
    }
    return this.#learnBprGeneral(x);
  }

  /** One negative, plain rows, context rows: the fused context kernel (bpr-kernel.ts). */
  #learnBprContext(x: Interaction, j: number): number {
    const context = this.#context as ContextRows;
    const rows = this.#bprRows;
    rows.users = this.#m.users.vectors;
    rows.userAccum = this.#m.users.accum;
    rows.items = this.#m.items.vectors;
    rows.itemAccum = this.#m.items.accum;
    const step = this.#contextRows;
    const k = context.shared.length + context.crosses.length;
    if (step.index.length < k) return this.#learnBprGeneral(x, j);
    step.count = 0;
    for (const [indices, table] of [
      [context.shared, this.#m.contexts],
      [context.crosses, this.#m.userContexts],
    ] as const) {
      const alpha = 1 / Math.max(1, indices.length);
      for (let r = 0; r < indices.length; r++) {
        const a = step.count++;
        step.vectors[a] = table.vectors;
        step.accum[a] = table.accum;
        step.index[a] = indices[r] as number;
        step.alpha[a] = alpha;
      }
    }
    const biases = this.#m.items.biases;
    const useBias = this.#config.implicitItemBias;
    const bias = useBias ? (biases[x.item] as number) - (biases[j] as number) : 0;
    const scratch = this.#contextScratch;
    const c = bprStepContext(rows, x.user, x.item, j, step, scratch, bias, x.weight, this.#config.optimizer);
    if (Number.isNaN(c)) return Number.NaN;
    if (useBias && c !== 0) {
      const { biasOptimizer, l2Bias } = this.#config;
      updateScalar(biases, this.#m.items.biasAccum, x.item, -c, biasOptimizer, l2Bias);
      updateScalar(biases, this.#m.items.biasAccum, j, c, biasOptimizer, l2Bias);
    }
    this.#m.items.markDirty(j, x.time);
    return x.weight * softplus(-scratch.diff);
  }

  /** One negative, every row plain: the fused kernel (bpr-kernel.ts), same math in two passes. */
  #learnBprPlain(x: Interaction, j: number): number {
    const rows = this.#bprRows;
    rows.users = this.#m.users.vectors;
    rows.userAccum = this.#m.users.accum;
    rows.items = this.#m.items.vectors;
    rows.itemAccum = this.#m.items.accum;
    const dots = bprDots(rows, x.user, x.item, j, this.#bprDots);
    const biases = this.#m.items.biases;
    const useBias = this.#config.implicitItemBias;
    const diff = (useBias ? (biases[x.item] as number) - (biases[j] as number) : 0) + dots.ui - dots.uj;
    if (!Number.isFinite(diff)) return Number.NaN;
    const c = x.weight * sigmoid(-diff);
    if (!bprStepPlain(rows, x.user, x.item, j, c, dots, this.#config.optimizer)) return Number.NaN;
    if (useBias && c !== 0) {
      const { biasOptimizer, l2Bias } = this.#config;
      updateScalar(biases, this.#m.items.biasAccum, x.item, -c, biasOptimizer, l2Bias);
      updateScalar(biases, this.#m.items.biasAccum, j, c, biasOptimizer, l2Bias);
    }
    this.#m.items.markDirty(j, x.time);
    return x.weight * softplus(-diff);
  }

  /** `first`: the first negative when the caller already drew it. */
  #learnBprGeneral(x: Interaction, first?: number): number {
    const { dim } = this.#config;
    // Rows without features are read in place (no copy); composite rows go through scratch.
    const userPlain = this.#m.userLists.ids[x.user] === undefined && this.#context === undefined;
    const uA = userPlain ? this.#m.users.vectors : this.#m.queryVector(x.user, this.#context, this.#u);
    const uO = userPlain ? x.user * dim : 0;
    const iPlain = this.#m.itemLists.ids[x.item] === undefined;
    const iA = iPlain ? this.#m.items.vectors : this.#m.itemVector(x.item, this.#vi);
    const iO = iPlain ? x.item * dim : 0;
    const gU = this.#gU.fill(0);
    const biases = this.#m.items.biases;
    const useBias = this.#config.implicitItemBias;
    const bi = useBias ? (biases[x.item] as number) : 0;
    let count = 0;
    let loss = 0;
    let sumC = 0;
    for (let n = 0; n < this.#negativeCount(); n++) {
      const j = n === 0 && first !== undefined ? first : this.#negative(n, x);
      if (j < 0) continue;
      const jPlain = this.#m.itemLists.ids[j] === undefined;
      const jA = jPlain ? this.#m.items.vectors : this.#m.itemVector(j, this.#vj);
      const jO = jPlain ? j * dim : 0;
      let diff = bi - (useBias ? (biases[j] as number) : 0);
      for (let d = 0; d < dim; d++)
        diff += (uA[uO + d] as number) * ((iA[iO + d] as number) - (jA[jO + d] as number));
      if (!Number.isFinite(diff)) return Number.NaN;
      // loss = -w log sigmoid(diff); dloss/ddiff = -c with c = w sigmoid(-diff)
      const c = x.weight * sigmoid(-diff);
      loss += x.weight * softplus(-diff);
      for (let d = 0; d < dim; d++)
        gU[d] = (gU[d] as number) - c * ((iA[iO + d] as number) - (jA[jO + d] as number));
      sumC += c;
      this.#negItems[count] = j;
      this.#negCoef[count] = c;
      count++;
    }
    if (count === 0) return 0;
    // d/dv_i = -sum(c) u, d/db_i = -sum(c); d/dv_j = c u, d/db_j = c; d/du = gU.
    // Items first: their gradient is the user's row, which must not have moved yet.
    this.#applyItem(x.item, uA, uO, -sumC, useBias ? -sumC : 0);
    for (let n = 0; n < count; n++) {
      const j = this.#negItems[n] as number;
      const c = this.#negCoef[n] as number;
      this.#applyItem(j, uA, uO, c, useBias ? c : 0);
      this.#m.items.markDirty(j, x.time);
    }
    this.#applyUser(x.user, gU, 1);
    return loss / count;
  }

  // --- implicit: logistic -------------------------------------------------------------------

  #learnLogistic(x: Interaction): number {
    const { dim } = this.#config;
    const u = this.#m.queryVector(x.user, this.#context, this.#u);
    const vi = this.#m.itemVector(x.item, this.#vi);
    const vj = this.#vj;
    const gU = this.#gU;
    const useBias = this.#config.implicitItemBias;
    // Positive: label 1, weight w; dloss/ds = w (sigmoid(s) - 1).
    const si = dot(u, 0, vi, 0, dim) + (useBias ? (this.#m.items.biases[x.item] as number) : 0);
    if (!Number.isFinite(si)) return Number.NaN;
    const ci = x.weight * (sigmoid(si) - 1);
    let loss = x.weight * softplus(-si);
    for (let d = 0; d < dim; d++) gU[d] = ci * (vi[d] as number);
    let count = 0;
    for (let n = 0; n < this.#negativeCount(); n++) {
      const j = this.#negative(n, x);
      if (j < 0) continue;
      this.#m.itemVector(j, vj);
      const sj = dot(u, 0, vj, 0, dim) + (useBias ? (this.#m.items.biases[j] as number) : 0);
      if (!Number.isFinite(sj)) return Number.NaN;
      // Negative: label 0, weight 1; dloss/ds = sigmoid(s).
      const cj = sigmoid(sj);
      loss += softplus(sj);
      for (let d = 0; d < dim; d++) gU[d] = (gU[d] as number) + cj * (vj[d] as number);
      this.#negItems[count] = j;
      this.#negCoef[count] = cj;
      count++;
    }
    this.#applyUser(x.user, gU, 1);
    this.#applyItem(x.item, u, 0, ci, useBias ? ci : 0);
    for (let n = 0; n < count; n++) {
      const j = this.#negItems[n] as number;
      const cj = this.#negCoef[n] as number;
      this.#applyItem(j, u, 0, cj, useBias ? cj : 0);
      this.#m.items.markDirty(j, x.time);
    }
    return loss / (1 + count);
  }

  /** A negative signal (dislike, an impression without a click): a logistic step towards 0. */
  #learnNegative(x: Interaction): number {
    const { dim } = this.#config;
    const w = -x.weight;
    const u = this.#m.queryVector(x.user, this.#context, this.#u);
    const vi = this.#m.itemVector(x.item, this.#vi);
    const useBias = this.#config.implicitItemBias;
    const s = dot(u, 0, vi, 0, dim) + (useBias ? (this.#m.items.biases[x.item] as number) : 0);
    if (!Number.isFinite(s)) return Number.NaN;
    const c = w * sigmoid(s);
    this.#applyUser(x.user, vi, c);
    this.#applyItem(x.item, u, 0, c, useBias ? c : 0);
    return w * softplus(s);
  }

  // --- explicit: ratings --------------------------------------------------------------------

  #learnRating(x: Interaction): number {
    const { dim } = this.#config;
    const u = this.#m.queryVector(x.user, this.#context, this.#u);
    const vi = this.#m.itemVector(x.item, this.#vi);
    // mu includes this rating (sum / count, so any process holding the sum and count agrees).
    const mean = (this.#m.ratingSum + x.value) / (this.#m.ratingCount + 1);
    const prediction =
      mean +
      (this.#m.users.biases[x.user] as number) +
      (this.#m.items.biases[x.item] as number) +
      dot(u, 0, vi, 0, dim);
    const error = (prediction - x.value) * x.weight;
    if (!Number.isFinite(error)) return Number.NaN;
    this.#m.ratingSum += x.value;
    this.#m.ratingCount++;
    // loss = error^2 / 2: d/du = error v, d/dv = error u, d/db = error.
    this.#applyUser(x.user, vi, error, error);
    this.#applyItem(x.item, u, 0, error, error);
    return 0.5 * error * error;
  }

  #negativeCount(): number {
    return this.#given === undefined
      ? this.#config.negatives
      : Math.min(this.#given.length, this.#negItems.length);
  }

  #negative(n: number, x: Interaction): number {
    return this.#given === undefined
      ? this.#m.sampler.sample(x.user, this.#m.items.size, x.item)
      : (this.#given[n] as number);
  }

  // --- row updates -------------------------------------------------------------------------

  /**
   * Applies `scale * grad` to the user's id row and, shared out, its feature rows and the step's
   * context rows (each group's share: the query holds each group's mean).
   */
  #applyUser(user: number, grad: Float32Array, scale: number, biasGrad = 0): void {
    const context = this.#context;
    if (context !== undefined) {
      const { dim, optimizer } = this.#config;
      const shared = scale / Math.max(1, context.shared.length);
      for (const c of context.shared)
        updateRow(this.#m.contexts.vectors, this.#m.contexts.accum, c, grad, shared, dim, optimizer, 0);
      const crosses = scale / Math.max(1, context.crosses.length);
      for (const c of context.crosses)
        updateRow(
          this.#m.userContexts.vectors,
          this.#m.userContexts.accum,
          c,
          grad,
          crosses,
          dim,
          optimizer,
          0,
        );
    }
    this.#m.userLists.update(
      this.#m.users,
      this.#m.userFeatures,
      user,
      grad,
      0,
      scale,
      biasGrad,
      this.#config,
    );
  }

  #applyItem(item: number, grad: Float32Array, gradOffset: number, scale: number, biasGrad: number): void {
    this.#m.itemLists.update(
      this.#m.items,
      this.#m.itemFeatures,
      item,
      grad,
      gradOffset,
      scale,
      biasGrad,
      this.#config,
    );
  }
}
