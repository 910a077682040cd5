import { addContextRows } from './composite.ts';
import { EmbeddingTable } from './embedding-table.ts';
import { FeatureLists } from './feature-lists.ts';
import type { Feature } from './features.ts';
import {
  DEFAULT_MF_CONFIG,
  type ContextRows,
  type HybridMfConfig,
  type HybridMfState,
  type Interaction,
} from './hybrid-mf-config.ts';
import { dot } from './math.ts';
import { MfSteps } from './mf-steps.ts';
import { PopularitySampler, UniformSampler, type NegativeSampler } from './negative-sampler.ts';
import { Random } from './random.ts';
import { MF_TABLES } from './registry.ts';
import { UserHistory } from './user-history.ts';

export * from './hybrid-mf-config.ts';
export { addContextRows, addContextVectors } from './composite.ts';

/**
 * Hybrid matrix factorization: user and item id rows plus content feature rows (a user's or
 * item's vector is its id row plus the mean of its feature rows), context rows added to the user's
 * query, learnt one interaction at a time (the steps: mf-steps.ts).
 */
export class HybridMF {
  readonly config: HybridMfConfig;
  readonly users: EmbeddingTable;
  readonly items: EmbeddingTable;
  readonly userFeatures: EmbeddingTable;
  readonly itemFeatures: EmbeddingTable;
  /** Context rows (`device=mobile`) and user x context rows (`<user>@device=mobile`), zero-initialised. */
  readonly contexts: EmbeddingTable;
  readonly userContexts: EmbeddingTable;
  /** Feature rows of each user and item. */
  readonly userLists = new FeatureLists();
  readonly itemLists = new FeatureLists();
  readonly history: UserHistory;
  readonly random: Random;
  readonly sampler: NegativeSampler;
  /** Sum and number of ratings learned: their mean is the global bias mu. */
  ratingSum = 0;
  ratingCount = 0;
  rejectedSteps = 0;
  steps = 0;

  readonly #steps: MfSteps;
  // Scratch buffers of the scoring calls.
  readonly #u: Float32Array;
  readonly #vi: Float32Array;

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
    this.#steps = new MfSteps(this, this.config);
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
      itemFeatureLists: this.itemLists.pack(this.items.size),
      userFeatureLists: this.userLists.pack(this.users.size),
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
    model.itemLists.restore(state.itemFeatureLists);
    model.userLists.restore(state.userFeatureLists);
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
    this.itemLists.set(this.itemFeatures, item, features);
    return item;
  }

  setUserFeatures(userId: string, features: readonly Feature[]): number {
    const user = this.users.ensure(userId);
    this.userLists.set(this.userFeatures, user, features);
    return user;
  }

  itemFeatureList(item: number): { keys: string[]; weights: number[] } {
    return this.itemLists.list(this.itemFeatures, item);
  }

  userFeatureList(user: number): { keys: string[]; weights: number[] } {
    return this.userLists.list(this.userFeatures, user);
  }

  /** The user's composite vector (id row + mean of feature rows). */
  userVector(user: number, out: Float32Array): Float32Array {
    return this.userLists.composite(this.users, this.userFeatures, user, out);
  }

  /** The item's composite vector (id row + mean of feature rows). */
  itemVector(item: number, out: Float32Array): Float32Array {
    return this.itemLists.composite(this.items, this.itemFeatures, item, out);
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
    const context =
      x.context !== undefined && x.context.shared.length + x.context.crosses.length > 0
        ? x.context
        : undefined;
    const loss = this.#steps.learn(x, context, negatives);
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
      const feats = this.itemLists.ids[i];
      if (feats !== undefined) {
        const weights = this.itemLists.weights[i] as Float32Array;
        const scale = 1 / feats.length;
        for (let k = 0; k < feats.length; k++)
          s += scale * (weights[k] as number) * (featureDots[feats[k] as number] as number);
      }
      out[i] = s;
    }
    return out;
  }

  /** Explicit prediction (the rating scale) for a user and item. */
  predictRating(user: number, item: number): number {
    return this.score(user, item, true);
  }
}
