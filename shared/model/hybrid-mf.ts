import { MF_TABLES } from './registry.ts';
import { addRowMean, addVectorMean } from './composite.ts';
import {
  bprDots,
  bprStepContext,
  bprStepPlain,
  type BprDots,
  type BprRows,
  type ContextScratch,
  type ContextStepRows,
} from './bpr-kernel.ts';
import { EmbeddingTable, type TableState } from './embedding-table.ts';
import type { Feature } from './features.ts';
import { dot, sigmoid, softplus } from './math.ts';
import {
  PopularitySampler,
  UniformSampler,
  type NegativeSampler,
  type SamplerState,
} from './negative-sampler.ts';
import { updateRow, updateScalar, type RowOptimizerConfig } from './optimizer.ts';
import { Random } from './random.ts';
import { UserHistory } from './user-history.ts';

export interface HybridMfConfig {
  readonly dim: number;
  readonly seed: number;
  /** Standard deviation of initial row values. */
  readonly initStd: number;
  /** Pairwise (BPR) or pointwise (logistic) loss for implicit feedback. */
  readonly loss: 'bpr' | 'logistic';
  /** Sampled negatives per positive implicit event. */
  readonly negatives: number;
  readonly sampler: 'uniform' | 'popularity';
  /** Items remembered per user (negative sampling avoids them). */
  readonly historySize: number;
  /** Optimizer of embedding vectors (id and feature rows). */
  readonly optimizer: RowOptimizerConfig;
  /** Optimizer of biases (its learningRate and kind; l2 is `l2Bias`). */
  readonly biasOptimizer: RowOptimizerConfig;
  readonly l2Bias: number;
  /** Learn item biases for implicit feedback too (a popularity prior). */
  readonly implicitItemBias: boolean;
}

export const DEFAULT_MF_CONFIG: HybridMfConfig = {
  dim: 64,
  seed: 42,
  initStd: 0.1,
  loss: 'bpr',
  negatives: 1,
  sampler: 'uniform',
  historySize: 100,
  optimizer: {
    kind: 'adagrad',
    learningRate: 0.05,
    l2: 0.0005,
    clipNorm: 5,
    maxNorm: 10,
    epsilon: 1e-8,
    initialAccumulator: 0.1,
  },
  biasOptimizer: {
    kind: 'adagrad',
    learningRate: 0.05,
    l2: 0,
    clipNorm: 5,
    maxNorm: 0,
    epsilon: 1e-8,
    initialAccumulator: 0.1,
  },
  l2Bias: 0.0005,
  implicitItemBias: true,
};

/** One interaction as the model sees it: interned indices, a weight and, for ratings, a value. */
export interface Interaction {
  readonly user: number;
  readonly item: number;
  /** From the event type: > 0 wants, < 0 does not want. */
  readonly weight: number;
  /** 'explicit': `value` is a rating learned by squared loss. */
  readonly kind: 'implicit' | 'explicit';
  readonly value: number;
  /** Milliseconds since the epoch. */
  readonly time: number;
  /**
   * The event's context rows (indices into `contexts`: `device=mobile`, `hour=evening`, ...) and
   * user x context rows (indices into `userContexts`: `<user>@device=mobile`). Absent: the step
   * is context-free.
   */
  readonly context?: ContextRows;
}

/** Context rows of one event or request (see contextKeys in context.ts). */
export interface ContextRows {
  readonly shared: Int32Array;
  readonly crosses: Int32Array;
}

/**
 * Hybrid matrix factorization trained one event at a time (LightFM-style hybrid, online SGD).
 *
 * A user's vector is its id row plus the mean of its feature rows; the same for items, so a new
 * item with known tags scores sensibly before anyone interacts with it. Scores are
 * `u . v + b_i` for implicit feedback and `mu + b_u + b_i + u . v` for ratings.
 *
 * Context is the factorization-machine view (Rendle et al., SIGIR 2011): every context value
 * (`device=mobile`) and every user x context cross (`user-7@device=mobile`) is a feature with its
 * own row, and a factorization machine's score of an item for (user, context) is, up to terms
 * that do not depend on the item, `(u + context rows) . v_i + b_i`. So the query vector of a
 * request is the user's vector plus its context rows (the mean of the shared ones plus the mean
 * of the crosses: addContextVectors), and a step's user gradient goes to them in those shares.
 * Context rows start at zero: a value never learnt adds nothing, and the query falls back to the
 * context-free vector.
 *
 * Implicit positives are learned with BPR (or logistic loss) against sampled negatives; a negative
 * weight (dislike, an impression without a click) is a logistic step towards 0. Every step is
 * computed from the current values first and applied only when all gradients are finite; a
 * rejected step changes nothing and is counted in `rejectedSteps`.
 */
/** Everything needed to resume training exactly where it stopped. */
export interface HybridMfState {
  readonly format: 'recsys-mf';
  readonly version: 1;
  readonly config: HybridMfConfig;
  readonly tables: {
    users: TableState;
    items: TableState;
    userFeatures: TableState;
    itemFeatures: TableState;
    /** Absent in states written before context rows existed. */
    contexts?: TableState;
    userContexts?: TableState;
  };
  readonly itemFeatureLists: FeatureListsState;
  readonly userFeatureLists: FeatureListsState;
  readonly ratingSum: number;
  readonly ratingCount: number;
  readonly steps: number;
  readonly rejectedSteps: number;
  readonly random: number;
  readonly history: ReturnType<UserHistory['toState']>;
  readonly sampler: SamplerState;
}

/** Per row: feature indices and weights, concatenated with offsets. */
export interface FeatureListsState {
  readonly offsets: Int32Array;
  readonly features: Int32Array;
  readonly weights: Float32Array;
}

export class HybridMF {
  readonly config: HybridMfConfig;
  readonly users: EmbeddingTable;
  readonly items: EmbeddingTable;
  readonly userFeatures: EmbeddingTable;
  readonly itemFeatures: EmbeddingTable;
  /** Context rows (`device=mobile`) and user x context rows (`<user>@device=mobile`), zero-initialised. */
  readonly contexts: EmbeddingTable;
  readonly userContexts: EmbeddingTable;
  readonly history: UserHistory;
  readonly random: Random;
  readonly sampler: NegativeSampler;
  /** Sum and number of ratings learned: their mean is the global bias mu. */
  ratingSum = 0;
  ratingCount = 0;
  rejectedSteps = 0;
  steps = 0;

  readonly #itemFeat: (Int32Array | undefined)[] = [];
  readonly #itemFeatW: (Float32Array | undefined)[] = [];
  readonly #userFeat: (Int32Array | undefined)[] = [];
  readonly #userFeatW: (Float32Array | undefined)[] = [];
  // Scratch buffers: composite vectors and gradients, reused by every step.
  readonly #u: Float32Array;
  readonly #vi: Float32Array;
  readonly #vj: Float32Array;
  readonly #gU: Float32Array;
  readonly #negItems: Int32Array;
  #given: ArrayLike<number> | undefined;
  /** The context rows of the step being learnt. */
  #context: ContextRows | undefined;
  readonly #negCoef: Float64Array;
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

  constructor(config: Partial<HybridMfConfig> = {}) {
    this.config = { ...DEFAULT_MF_CONFIG, ...config };
    const { dim, seed, initStd } = this.config;
    const adagrad = this.config.optimizer.kind === 'adagrad' || this.config.biasOptimizer.kind === 'adagrad';
    const table = (name: string, std: number) =>
      new EmbeddingTable({ name, dim, seed, initStd: std, adagrad });
    this.users = table(MF_TABLES.user, initStd);
    this.items = table(MF_TABLES.item, initStd);
    this.userFeatures = table(MF_TABLES.userFeature, initStd);
    this.itemFeatures = table(MF_TABLES.itemFeature, initStd);
    this.contexts = table(MF_TABLES.context, 0);
    this.userContexts = table(MF_TABLES.userContext, 0);
    this.history = new UserHistory(this.config.historySize);
    this.random = new Random(seed);
    this.sampler =
      this.config.sampler === 'popularity'
        ? new PopularitySampler(this.random, this.history)
        : new UniformSampler(this.random, this.history);
    this.#u = new Float32Array(dim);
    this.#vi = new Float32Array(dim);
    this.#vj = new Float32Array(dim);
    this.#gU = new Float32Array(dim);
    const n = Math.max(1, this.config.negatives);
    this.#negItems = new Int32Array(n);
    this.#negCoef = new Float64Array(n);
    this.#bprRows = {
      users: this.users.vectors,
      userAccum: this.users.accum,
      items: this.items.vectors,
      itemAccum: this.items.accum,
      dim,
    };
  }

  /** The complete state (copies), for checkpoints; see HybridMF.fromState. */
  toState(): HybridMfState {
    return {
      format: 'recsys-mf',
      version: 1,
      config: this.config,
      tables: {
        users: this.users.snapshot(),
        items: this.items.snapshot(),
        userFeatures: this.userFeatures.snapshot(),
        itemFeatures: this.itemFeatures.snapshot(),
        contexts: this.contexts.snapshot(),
        userContexts: this.userContexts.snapshot(),
      },
      itemFeatureLists: packLists(this.#itemFeat, this.#itemFeatW, this.items.size),
      userFeatureLists: packLists(this.#userFeat, this.#userFeatW, this.users.size),
      ratingSum: this.ratingSum,
      ratingCount: this.ratingCount,
      steps: this.steps,
      rejectedSteps: this.rejectedSteps,
      random: this.random.state,
      history: this.history.toState(),
      sampler: this.sampler.toState(),
    };
  }

  /** A model that continues exactly where the one that produced `state` stopped. */
  static fromState(state: HybridMfState): HybridMF {
    if (state.format !== 'recsys-mf' || state.version !== 1)
      throw new RangeError('not an MF state (version 1)');
    const model = new HybridMF(state.config);
    model.users.restore(state.tables.users);
    model.items.restore(state.tables.items);
    model.userFeatures.restore(state.tables.userFeatures);
    model.itemFeatures.restore(state.tables.itemFeatures);
    if (state.tables.contexts !== undefined) model.contexts.restore(state.tables.contexts);
    if (state.tables.userContexts !== undefined) model.userContexts.restore(state.tables.userContexts);
    unpackLists(state.itemFeatureLists, model.#itemFeat, model.#itemFeatW);
    unpackLists(state.userFeatureLists, model.#userFeat, model.#userFeatW);
    model.ratingSum = state.ratingSum;
    model.ratingCount = state.ratingCount;
    model.steps = state.steps;
    model.rejectedSteps = state.rejectedSteps;
    model.random.state = state.random;
    const history = UserHistory.fromState(state.history);
    (model as { history: UserHistory }).history = history;
    const random = model.random;
    (model as { sampler: NegativeSampler }).sampler =
      state.config.sampler === 'popularity'
        ? new PopularitySampler(random, history)
        : new UniformSampler(random, history);
    model.sampler.restore(state.sampler);
    return model;
  }

  /** The global bias mu: the mean of all ratings learned (0 before the first). */
  get globalMean(): number {
    return this.ratingCount === 0 ? 0 : this.ratingSum / this.ratingCount;
  }

  /** Sets (replaces) an item's content features; creates the item row when new. */
  setItemFeatures(itemId: string, features: readonly Feature[]): number {
    const item = this.items.ensure(itemId);
    this.#setFeatures(this.itemFeatures, this.#itemFeat, this.#itemFeatW, item, features);
    return item;
  }

  setUserFeatures(userId: string, features: readonly Feature[]): number {
    const user = this.users.ensure(userId);
    this.#setFeatures(this.userFeatures, this.#userFeat, this.#userFeatW, user, features);
    return user;
  }

  itemFeatureList(item: number): { keys: string[]; weights: number[] } {
    return this.#featureList(this.itemFeatures, this.#itemFeat[item], this.#itemFeatW[item]);
  }

  userFeatureList(user: number): { keys: string[]; weights: number[] } {
    return this.#featureList(this.userFeatures, this.#userFeat[user], this.#userFeatW[user]);
  }

  /** The user's composite vector (id row + mean of feature rows). */
  userVector(user: number, out: Float32Array): Float32Array {
    return this.#composite(
      this.users,
      this.userFeatures,
      this.#userFeat[user],
      this.#userFeatW[user],
      user,
      out,
    );
  }

  /** The item's composite vector (id row + mean of feature rows). */
  itemVector(item: number, out: Float32Array): Float32Array {
    return this.#composite(
      this.items,
      this.itemFeatures,
      this.#itemFeat[item],
      this.#itemFeatW[item],
      item,
      out,
    );
  }

  /**
   * The query vector of a user in a context: the composite user vector plus the context rows
   * (no context: the user vector).
   */
  queryVector(user: number, context: ContextRows | undefined, out: Float32Array): Float32Array {
    this.userVector(user, out);
    if (context !== undefined)
      addContextRows(out, this.contexts, this.userContexts, context, this.config.dim);
    return out;
  }

  /**
   * Learns one interaction. Returns its loss, or NaN when the step was rejected. `negatives`
   * (item indices) replaces the model's own sampling, for callers that draw them elsewhere (the
   * trainer draws them from the persisted item registry, so a restart draws the same ones).
   */
  learn(x: Interaction, negatives?: ArrayLike<number>): number {
    this.steps++;
    this.#given = negatives;
    this.#context =
      x.context !== undefined && x.context.shared.length + x.context.crosses.length > 0
        ? x.context
        : undefined;
    const loss =
      x.kind === 'explicit'
        ? this.#learnRating(x)
        : x.weight > 0
          ? this.config.loss === 'bpr'
            ? this.#learnBpr(x)
            : this.#learnLogistic(x)
          : this.#learnNegative(x);
    if (Number.isNaN(loss)) {
      this.rejectedSteps++;
      return loss;
    }
    if (x.weight > 0 || x.kind === 'explicit') {
      this.history.add(x.user, x.item);
      this.sampler.observe(x.item);
      this.users.counts[x.user] = (this.users.counts[x.user] as number) + 1;
      this.items.counts[x.item] = (this.items.counts[x.item] as number) + 1;
    }
    this.users.markDirty(x.user, x.time);
    this.items.markDirty(x.item, x.time);
    const context = this.#context;
    if (context !== undefined) {
      const counted = x.weight > 0 || x.kind === 'explicit' ? 1 : 0;
      for (const c of context.shared) {
        this.contexts.counts[c] = (this.contexts.counts[c] as number) + counted;
        this.contexts.markDirty(c, x.time);
      }
      for (const c of context.crosses) {
        this.userContexts.counts[c] = (this.userContexts.counts[c] as number) + counted;
        this.userContexts.markDirty(c, x.time);
      }
    }
    return loss;
  }

  /** Score of one item for a user (rating scale for explicit, a logit for implicit). */
  score(user: number, item: number, explicit = false, context?: ContextRows): number {
    const u = this.queryVector(user, context, this.#u);
    const v = this.itemVector(item, this.#vi);
    const s = dot(u, 0, v, 0, this.config.dim) + (this.items.biases[item] as number);
    return explicit ? s + this.globalMean + (this.users.biases[user] as number) : s;
  }

  /**
   * Scores of every item for a user, into `out` (length >= items.size). Feature contributions are
   * computed once per feature, then summed per item: cost O(items * dim + features * dim).
   */
  scoreAll(user: number, out: Float32Array, explicit = false, context?: ContextRows): Float32Array {
    const dim = this.config.dim;
    const u = this.queryVector(user, context, this.#u);
    const featureDots = new Float64Array(this.itemFeatures.size);
    for (let f = 0; f < featureDots.length; f++)
      featureDots[f] = dot(u, 0, this.itemFeatures.vectors, f * dim, dim);
    const base = explicit ? this.globalMean + (this.users.biases[user] as number) : 0;
    const vectors = this.items.vectors;
    const biases = this.items.biases;
    for (let i = 0; i < this.items.size; i++) {
      let s = dot(u, 0, vectors, i * dim, dim) + (biases[i] as number) + base;
      const feats = this.#itemFeat[i];
      if (feats !== undefined) {
        const weights = this.#itemFeatW[i] as Float32Array;
        const scale = 1 / feats.length;
        for (let k = 0; k < feats.length; k++)
          s += scale * (weights[k] as number) * (featureDots[feats[k] as number] as number);
      }
      out[i] = s;
    }
    return out;
  }

  // --- implicit: BPR -------------------------------------------------------------------------
  //
  // Rows are finite by construction (every update is checked), so a step whose scores are finite
  // has finite gradients: each step checks its scores before writing anything, then applies.

  #learnBpr(x: Interaction): number {
    if (
      this.#negativeCount() === 1 &&
      this.#userFeat[x.user] === undefined &&
      this.#itemFeat[x.item] === undefined
    ) {
      const j = this.#negative(0, x);
      if (j >= 0 && j !== x.item && this.#itemFeat[j] === undefined)
        return this.#context === undefined ? this.#learnBprPlain(x, j) : this.#learnBprContext(x, j);
      return this.#learnBprGeneral(x, j);
    }
    return this.#learnBprGeneral(x);
  }

  /** One negative, plain rows, context rows: the fused context kernel (bpr-kernel.ts). */
  #learnBprContext(x: Interaction, j: number): number {
    const context = this.#context as ContextRows;
    const rows = this.#bprRows;
    rows.users = this.users.vectors;
    rows.userAccum = this.users.accum;
    rows.items = this.items.vectors;
    rows.itemAccum = this.items.accum;
    const step = this.#contextRows;
    const k = context.shared.length + context.crosses.length;
    if (step.index.length < k) return this.#learnBprGeneral(x, j);
    step.count = 0;
    for (const [indices, table] of [
      [context.shared, this.contexts],
      [context.crosses, this.userContexts],
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
    const biases = this.items.biases;
    const useBias = this.config.implicitItemBias;
    const bias = useBias ? (biases[x.item] as number) - (biases[j] as number) : 0;
    const scratch = this.#contextScratch;
    const c = bprStepContext(rows, x.user, x.item, j, step, scratch, bias, x.weight, this.config.optimizer);
    if (Number.isNaN(c)) return Number.NaN;
    if (useBias && c !== 0) {
      const { biasOptimizer, l2Bias } = this.config;
      updateScalar(biases, this.items.biasAccum, x.item, -c, biasOptimizer, l2Bias);
      updateScalar(biases, this.items.biasAccum, j, c, biasOptimizer, l2Bias);
    }
    this.items.markDirty(j, x.time);
    return x.weight * softplus(-scratch.diff);
  }

  /** One negative, every row plain: the fused kernel (bpr-kernel.ts), same math in two passes. */
  #learnBprPlain(x: Interaction, j: number): number {
    const rows = this.#bprRows;
    rows.users = this.users.vectors;
    rows.userAccum = this.users.accum;
    rows.items = this.items.vectors;
    rows.itemAccum = this.items.accum;
    const dots = bprDots(rows, x.user, x.item, j, this.#bprDots);
    const biases = this.items.biases;
    const useBias = this.config.implicitItemBias;
    const diff = (useBias ? (biases[x.item] as number) - (biases[j] as number) : 0) + dots.ui - dots.uj;
    if (!Number.isFinite(diff)) return Number.NaN;
    const c = x.weight * sigmoid(-diff);
    if (!bprStepPlain(rows, x.user, x.item, j, c, dots, this.config.optimizer)) return Number.NaN;
    if (useBias && c !== 0) {
      const { biasOptimizer, l2Bias } = this.config;
      updateScalar(biases, this.items.biasAccum, x.item, -c, biasOptimizer, l2Bias);
      updateScalar(biases, this.items.biasAccum, j, c, biasOptimizer, l2Bias);
    }
    this.items.markDirty(j, x.time);
    return x.weight * softplus(-diff);
  }

  /** `first`: the first negative when the caller already drew it. */
  #learnBprGeneral(x: Interaction, first?: number): number {
    const { dim } = this.config;
    // Rows without features are read in place (no copy); composite rows go through scratch.
    const userPlain = this.#userFeat[x.user] === undefined && this.#context === undefined;
    const uA = userPlain ? this.users.vectors : this.queryVector(x.user, this.#context, this.#u);
    const uO = userPlain ? x.user * dim : 0;
    const iPlain = this.#itemFeat[x.item] === undefined;
    const iA = iPlain ? this.items.vectors : this.itemVector(x.item, this.#vi);
    const iO = iPlain ? x.item * dim : 0;
    const gU = this.#gU.fill(0);
    const biases = this.items.biases;
    const useBias = this.config.implicitItemBias;
    const bi = useBias ? (biases[x.item] as number) : 0;
    let count = 0;
    let loss = 0;
    let sumC = 0;
    for (let n = 0; n < this.#negativeCount(); n++) {
      const j = n === 0 && first !== undefined ? first : this.#negative(n, x);
      if (j < 0) continue;
      const jPlain = this.#itemFeat[j] === undefined;
      const jA = jPlain ? this.items.vectors : this.itemVector(j, this.#vj);
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
      this.items.markDirty(j, x.time);
    }
    this.#applyUser(x.user, gU, 1);
    return loss / count;
  }

  // --- implicit: logistic -------------------------------------------------------------------

  #learnLogistic(x: Interaction): number {
    const { dim } = this.config;
    const u = this.queryVector(x.user, this.#context, this.#u);
    const vi = this.itemVector(x.item, this.#vi);
    const vj = this.#vj;
    const gU = this.#gU;
    const useBias = this.config.implicitItemBias;
    // Positive: label 1, weight w; dloss/ds = w (sigmoid(s) - 1).
    const si = dot(u, 0, vi, 0, dim) + (useBias ? (this.items.biases[x.item] as number) : 0);
    if (!Number.isFinite(si)) return Number.NaN;
    const ci = x.weight * (sigmoid(si) - 1);
    let loss = x.weight * softplus(-si);
    for (let d = 0; d < dim; d++) gU[d] = ci * (vi[d] as number);
    let count = 0;
    for (let n = 0; n < this.#negativeCount(); n++) {
      const j = this.#negative(n, x);
      if (j < 0) continue;
      this.itemVector(j, vj);
      const sj = dot(u, 0, vj, 0, dim) + (useBias ? (this.items.biases[j] as number) : 0);
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
      this.items.markDirty(j, x.time);
    }
    return loss / (1 + count);
  }

  /** A negative signal (dislike, an impression without a click): a logistic step towards 0. */
  #learnNegative(x: Interaction): number {
    const { dim } = this.config;
    const w = -x.weight;
    const u = this.queryVector(x.user, this.#context, this.#u);
    const vi = this.itemVector(x.item, this.#vi);
    const useBias = this.config.implicitItemBias;
    const s = dot(u, 0, vi, 0, dim) + (useBias ? (this.items.biases[x.item] as number) : 0);
    if (!Number.isFinite(s)) return Number.NaN;
    const c = w * sigmoid(s);
    this.#applyUser(x.user, vi, c);
    this.#applyItem(x.item, u, 0, c, useBias ? c : 0);
    return w * softplus(s);
  }

  // --- explicit: ratings --------------------------------------------------------------------

  #learnRating(x: Interaction): number {
    const { dim } = this.config;
    const u = this.queryVector(x.user, this.#context, this.#u);
    const vi = this.itemVector(x.item, this.#vi);
    // mu includes this rating (sum / count, so any process holding the sum and count agrees).
    const mean = (this.ratingSum + x.value) / (this.ratingCount + 1);
    const prediction =
      mean +
      (this.users.biases[x.user] as number) +
      (this.items.biases[x.item] as number) +
      dot(u, 0, vi, 0, dim);
    const error = (prediction - x.value) * x.weight;
    if (!Number.isFinite(error)) return Number.NaN;
    this.ratingSum += x.value;
    this.ratingCount++;
    // loss = error^2 / 2: d/du = error v, d/dv = error u, d/db = error.
    this.#applyUser(x.user, vi, error, error);
    this.#applyItem(x.item, u, 0, error, error);
    return 0.5 * error * error;
  }

  /** Explicit prediction (the rating scale) for a user and item. */
  predictRating(user: number, item: number): number {
    return this.score(user, item, true);
  }

  #negativeCount(): number {
    return this.#given === undefined
      ? this.config.negatives
      : Math.min(this.#given.length, this.#negItems.length);
  }

  #negative(n: number, x: Interaction): number {
    return this.#given === undefined
      ? this.sampler.sample(x.user, this.items.size, x.item)
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
      const { dim, optimizer } = this.config;
      const shared = scale / Math.max(1, context.shared.length);
      for (const c of context.shared)
        updateRow(this.contexts.vectors, this.contexts.accum, c, grad, shared, dim, optimizer, 0);
      const crosses = scale / Math.max(1, context.crosses.length);
      for (const c of context.crosses)
        updateRow(this.userContexts.vectors, this.userContexts.accum, c, grad, crosses, dim, optimizer, 0);
    }
    this.#applyComposite(
      this.users,
      this.userFeatures,
      this.#userFeat[user],
      this.#userFeatW[user],
      user,
      grad,
      0,
      scale,
      biasGrad,
    );
  }

  #applyItem(item: number, grad: Float32Array, gradOffset: number, scale: number, biasGrad: number): void {
    this.#applyComposite(
      this.items,
      this.itemFeatures,
      this.#itemFeat[item],
      this.#itemFeatW[item],
      item,
      grad,
      gradOffset,
      scale,
      biasGrad,
    );
  }

  #applyComposite(
    ids: EmbeddingTable,
    features: EmbeddingTable,
    feats: Int32Array | undefined,
    weights: Float32Array | undefined,
    index: number,
    grad: Float32Array,
    gradOffset: number,
    scale: number,
    biasGrad: number,
  ): void {
    const { dim, optimizer } = this.config;
    updateRow(ids.vectors, ids.accum, index, grad, scale, dim, optimizer, gradOffset);
    if (biasGrad !== 0)
      updateScalar(ids.biases, ids.biasAccum, index, biasGrad, this.config.biasOptimizer, this.config.l2Bias);
    if (feats !== undefined && weights !== undefined) {
      const share = scale / feats.length;
      for (let k = 0; k < feats.length; k++) {
        const f = feats[k] as number;
        updateRow(
          features.vectors,
          features.accum,
          f,
          grad,
          share * (weights[k] as number),
          dim,
          optimizer,
          gradOffset,
        );
        features.markDirty(f, 0);
      }
    }
  }

  #composite(
    ids: EmbeddingTable,
    features: EmbeddingTable,
    feats: Int32Array | undefined,
    weights: Float32Array | undefined,
    index: number,
    out: Float32Array,
  ): Float32Array {
    const dim = this.config.dim;
    out.set(ids.vectors.subarray(index * dim, (index + 1) * dim));
    if (feats !== undefined && weights !== undefined)
      addRowMean(out, features.vectors, feats, weights, 0, feats.length, dim);
    return out;
  }

  #setFeatures(
    table: EmbeddingTable,
    lists: (Int32Array | undefined)[],
    weightLists: (Float32Array | undefined)[],
    index: number,
    features: readonly Feature[],
  ): void {
    if (features.length === 0) {
      lists[index] = undefined;
      weightLists[index] = undefined;
      return;
    }
    lists[index] = Int32Array.from(features, (f) => table.ensure(f.key));
    weightLists[index] = Float32Array.from(features, (f) => f.weight);
  }

  #featureList(
    table: EmbeddingTable,
    feats: Int32Array | undefined,
    weights: Float32Array | undefined,
  ): { keys: string[]; weights: number[] } {
    if (feats === undefined || weights === undefined) return { keys: [], weights: [] };
    return { keys: Array.from(feats, (f) => table.idAt(f)), weights: Array.from(weights) };
  }
}

/** Adds the context rows of `context` to `out` (a query vector), as addContextVectors does. */
export function addContextRows(
  out: Float32Array,
  contexts: EmbeddingTable,
  userContexts: EmbeddingTable,
  context: ContextRows,
  dim: number,
): void {
  addRowMean(out, contexts.vectors, context.shared, undefined, 0, context.shared.length, dim);
  addRowMean(out, userContexts.vectors, context.crosses, undefined, 0, context.crosses.length, dim);
}

/**
 * Adds the mean of the shared context rows and the mean of the user x context rows to `out`:
 * the query of a user in a context, in the trainer and in serving alike. A row the store does not
 * have is `undefined` and counts as zero (the value that rows start at). The means, not sums:
 * with many context fields a sum moves the query (1 + fields) times as fast as the user row, and
 * the shared rows, which every event trains, drown the user's own taste.
 */
export function addContextVectors(
  out: Float32Array,
  shared: readonly (Float32Array | undefined)[],
  crosses: readonly (Float32Array | undefined)[],
): void {
  addVectorMean(out, shared);
  addVectorMean(out, crosses);
}

function packLists(
  lists: (Int32Array | undefined)[],
  weights: (Float32Array | undefined)[],
  rows: number,
): FeatureListsState {
  const offsets = new Int32Array(rows + 1);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    total += lists[r]?.length ?? 0;
    offsets[r + 1] = total;
  }
  const features = new Int32Array(total);
  const w = new Float32Array(total);
  for (let r = 0; r < rows; r++) {
    const list = lists[r];
    if (list !== undefined) {
      features.set(list, offsets[r] as number);
      w.set(weights[r] as Float32Array, offsets[r] as number);
    }
  }
  return { offsets, features, weights: w };
}

function unpackLists(
  state: FeatureListsState,
  lists: (Int32Array | undefined)[],
  weights: (Float32Array | undefined)[],
): void {
  lists.length = 0;
  weights.length = 0;
  for (let r = 0; r + 1 < state.offsets.length; r++) {
    const from = state.offsets[r] as number;
    const to = state.offsets[r + 1] as number;
    lists[r] = to > from ? state.features.slice(from, to) : undefined;
    weights[r] = to > from ? state.weights.slice(from, to) : undefined;
  }
}
