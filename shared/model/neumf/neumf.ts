import { NEUMF_TABLES } from '../registry.ts';
import * as tf from '@tensorflow/tfjs';
import { ContextEncoder, type Context } from '../context.ts';
import { EmbeddingTable } from '../embedding-table.ts';
import { PopularitySampler, UniformSampler, type NegativeSampler } from '../negative-sampler.ts';
import { Random } from '../random.ts';
import { UserHistory } from '../user-history.ts';
import { adamPowers, setAdamPowers } from './adam-state.ts';
import {
  DEFAULT_NEUMF_CONFIG,
  type NeuMfConfig,
  type NeuMfInteraction,
  type NeuMfState,
  type TensorState,
} from './config.ts';
import { MicroBatch } from './micro-batch.ts';
import { RowGradients, allFinite, gather } from './rows.ts';
import { buildTower, forward, type Tower } from './tower.ts';

export * from './config.ts';
export { gather } from './rows.ts';

export class NeuMF {
  readonly config: NeuMfConfig;
  readonly context: ContextEncoder;
  readonly gmfUsers: EmbeddingTable;
  readonly gmfItems: EmbeddingTable;
  readonly mlpUsers: EmbeddingTable;
  readonly mlpItems: EmbeddingTable;
  readonly contexts: EmbeddingTable;
  readonly history: UserHistory;
  readonly random: Random;
  readonly sampler: NegativeSampler;
  readonly tower: Tower;
  readonly optimizer: tf.Optimizer;
  /** Training steps (micro-batches) taken, and their last mean loss. */
  steps = 0;
  lastLoss = Number.NaN;
  rejectedSteps = 0;
  examples = 0;

  readonly #mlpInputDim: number;
  readonly #pending: MicroBatch;
  readonly #rowGradients: RowGradients;

  constructor(config: Partial<NeuMfConfig> = {}) {
    this.config = { ...DEFAULT_NEUMF_CONFIG, ...config };
    const c = this.config;
    this.context = new ContextEncoder({ fields: c.contextFields });
    const adagrad = c.rowOptimizer.kind === 'adagrad';
    const table = (name: string, dim: number) =>
      new EmbeddingTable({ name, dim, seed: c.seed, initStd: c.initStd, adagrad });
    this.gmfUsers = table(NEUMF_TABLES.gmfUser, c.gmfDim);
    this.gmfItems = table(NEUMF_TABLES.gmfItem, c.gmfDim);
    this.mlpUsers = table(NEUMF_TABLES.mlpUser, c.mlpDim);
    this.mlpItems = table(NEUMF_TABLES.mlpItem, c.mlpDim);
    this.contexts = table(NEUMF_TABLES.context, Math.max(1, c.contextDim));
    this.history = new UserHistory(c.historySize);
    this.random = new Random(c.seed);
    this.sampler =
      c.sampler === 'popularity'
        ? new PopularitySampler(this.random, this.history)
        : new UniformSampler(this.random, this.history);
    this.#mlpInputDim = 2 * c.mlpDim + (c.contextDim > 0 ? this.context.fields.length * c.contextDim : 0);
    this.tower = buildTower({
      gmfDim: c.gmfDim,
      mlpInputDim: this.#mlpInputDim,
      hidden: c.hidden,
      seed: c.seed,
    });
    this.optimizer = tf.train.adam(c.denseLearningRate);
    // Room for a full batch plus one more positive with up to 64 caller-given negatives.
    const capacity = c.batchSize + Math.max(c.negatives, 64) + 1;
    this.#pending = new MicroBatch(capacity, this.context.fields.length);
    this.#rowGradients = new RowGradients(c, this, this.#mlpInputDim);
  }

  get mlpInputDim(): number {
    return this.#mlpInputDim;
  }

  /** Interns a user id (one index shared by the GMF and MLP tables). */
  ensureUser(id: string): number {
    const index = this.gmfUsers.ensure(id);
    if (this.mlpUsers.ensure(id) !== index) throw new Error(`NeuMF user tables out of step at ${id}`);
    return index;
  }

  ensureItem(id: string): number {
    const index = this.gmfItems.ensure(id);
    if (this.mlpItems.ensure(id) !== index) throw new Error(`NeuMF item tables out of step at ${id}`);
    return index;
  }

  /** Context row indices of a context, in field order. */
  contextRows(context: Context | undefined, time: number): Int32Array {
    return Int32Array.from(this.context.encode(context, time), (key) => this.contexts.ensure(key));
  }

  /**
   * Adds an interaction to the micro-batch (a positive with sampled negatives, or one negative
   * example for a negative weight); trains when the batch is full. Returns the loss of the step
   * it triggered, or undefined. `negatives` (item indices, at most 64) replaces the model's own
   * sampling.
   */
  learn(x: NeuMfInteraction, negatives?: ArrayLike<number>): number | undefined {
    const ctx = this.contextRows(x.context, x.time);
    if (x.weight > 0) {
      this.#pending.push(x.user, x.item, ctx, 1, x.weight);
      const count = negatives === undefined ? this.config.negatives : negatives.length;
      for (let n = 0; n < count; n++) {
        const j =
          negatives === undefined
            ? this.sampler.sample(x.user, this.gmfItems.size, x.item)
            : (negatives[n] as number);
        if (j >= 0) this.#pending.push(x.user, j, ctx, 0, 1);
      }
      this.history.add(x.user, x.item);
      this.sampler.observe(x.item);
      this.gmfUsers.counts[x.user] = (this.gmfUsers.counts[x.user] as number) + 1;
      this.gmfItems.counts[x.item] = (this.gmfItems.counts[x.item] as number) + 1;
    } else {
      this.#pending.push(x.user, x.item, ctx, 0, -x.weight);
    }
    return this.#pending.size >= this.config.batchSize ? this.flush() : undefined;
  }

  /** Trains on whatever is in the micro-batch now. Returns the step's mean loss (NaN if rejected). */
  flush(): number | undefined {
    const p = this.#pending;
    const n = p.size;
    if (n === 0) return undefined;
    p.size = 0;
    return this.trainBatch(
      p.users.subarray(0, n),
      p.items.subarray(0, n),
      p.ctx.subarray(0, n * p.fields),
      p.labels.subarray(0, n),
      p.weights.subarray(0, n),
    );
  }

  /**
   * One training step on explicit examples (labels 0/1, weights >= 0). Rows are gathered, TF.js
   * computes gradients for them and the tower, and every update is applied only if all of them
   * are finite.
   */
  trainBatch(
    users: Int32Array,
    items: Int32Array,
    ctx: Int32Array,
    labels: Float32Array,
    weights: Float32Array,
  ): number {
    const c = this.config;
    const b = users.length;
    const fields = this.context.fields.length;
    const useContext = c.contextDim > 0;
    const ug = gather(this.gmfUsers, users);
    const ig = gather(this.gmfItems, items);
    const mlp = this.#mlpInputs(users, items, ctx, b);
    const tensors = {
      ug: tf.tensor2d(ug, [b, c.gmfDim]),
      ig: tf.tensor2d(ig, [b, c.gmfDim]),
      mlp: tf.tensor2d(mlp, [b, this.#mlpInputDim]),
      labels: tf.tensor1d(labels),
      weights: tf.tensor1d(weights),
    };
    const vars = this.tower.variables;
    let loss = Number.NaN;
    let rowGrads: Float32Array | undefined;
    const denseGrads: tf.Tensor[] = [];
    try {
      const lossFn = (ugT: tf.Tensor, igT: tf.Tensor, mlpT: tf.Tensor, ...w: tf.Tensor[]): tf.Scalar => {
        const logits = forward(tf.mul(ugT, igT) as tf.Tensor2D, mlpT as tf.Tensor2D, w);
        // Weighted binary cross-entropy on logits, written in its stable form.
        const perExample = tf.sub(tf.softplus(logits), tf.mul(tensors.labels, logits));
        return tf.div(tf.sum(tf.mul(perExample, tensors.weights)), b) as tf.Scalar;
      };
      const { value, grads } = tf.valueAndGrads(lossFn)([tensors.ug, tensors.ig, tensors.mlp, ...vars]);
      const [gUg, gIg, gMlp] = grads as [tf.Tensor, tf.Tensor, tf.Tensor];
      denseGrads.push(...grads.slice(3));
      // One download for the row gradients, the loss and a finiteness check of the dense gradients
      // (x * 0 is NaN exactly when x is NaN or infinite).
      const joined = tf.tidy(() =>
        tf.concat(
          [
            tf.reshape(tf.concat([gUg, gIg, gMlp], 1), [-1]),
            tf.reshape(value, [1]),
            tf.reshape(tf.addN(denseGrads.map((g) => tf.sum(tf.mul(g, 0)))), [1]),
          ],
          0,
        ),
      );
      const all = joined.dataSync() as Float32Array;
      tf.dispose([value, gUg, gIg, gMlp, joined]);
      rowGrads = all.subarray(0, all.length - 2);
      loss = all[all.length - 2] as number;
      const denseCheck = all[all.length - 1] as number;
      if (!Number.isFinite(loss) || denseCheck !== 0 || !allFinite(rowGrads)) {
        this.rejectedSteps++;
        return Number.NaN;
      }
      this.optimizer.applyGradients(
        Object.fromEntries(vars.map((v, i) => [v.name, denseGrads[i] as tf.Tensor])),
      );
    } finally {
      tf.dispose([...Object.values(tensors), ...denseGrads]);
    }
    this.#rowGradients.apply(users, items, ctx, rowGrads, b, fields, useContext);
    this.steps++;
    this.examples += b;
    this.lastLoss = loss;
    return loss;
  }

  /** Logits of `items` for one user under one context, in one batched call. */
  scoreItems(
    user: number,
    items: Int32Array,
    ctx: Int32Array,
    out: Float32Array = new Float32Array(items.length),
  ): Float32Array {
    const n = items.length;
    if (n === 0) return out;
    const c = this.config;
    const users = new Int32Array(n).fill(user);
    const ctxAll = new Int32Array(n * ctx.length);
    for (let k = 0; k < n; k++) ctxAll.set(ctx, k * ctx.length);
    const ug = gather(this.gmfUsers, users);
    const ig = gather(this.gmfItems, items);
    const mlp = this.#mlpInputs(users, items, ctxAll, n);
    const logits = tf.tidy(() =>
      forward(
        tf.mul(tf.tensor2d(ug, [n, c.gmfDim]), tf.tensor2d(ig, [n, c.gmfDim])) as tf.Tensor2D,
        tf.tensor2d(mlp, [n, this.#mlpInputDim]),
        this.tower.variables,
      ),
    );
    out.set(logits.dataSync());
    logits.dispose();
    return out;
  }

  /** The complete state (copies), including the pending micro-batch and Adam's moments. */
  async toState(): Promise<NeuMfState> {
    const optimizerWeights = await this.optimizer.getWeights();
    return {
      format: 'recsys-neumf',
      version: 1,
      config: this.config,
      tables: {
        gmfUsers: this.gmfUsers.snapshot(),
        gmfItems: this.gmfItems.snapshot(),
        mlpUsers: this.mlpUsers.snapshot(),
        mlpItems: this.mlpItems.snapshot(),
        contexts: this.contexts.snapshot(),
      },
      dense: this.tower.variables.map((v) => ({ shape: [...v.shape], values: v.dataSync() as Float32Array })),
      optimizer: optimizerWeights.map((w) => ({
        shape: [...w.tensor.shape],
        values: w.tensor.dataSync() as Float32Array,
      })),
      adamPowers: adamPowers(this.optimizer),
      pending: this.#pending.toState(),
      counters: {
        steps: this.steps,
        examples: this.examples,
        rejectedSteps: this.rejectedSteps,
        lastLoss: this.lastLoss,
      },
      random: this.random.state,
      history: this.history.toState(),
      sampler: this.sampler.toState(),
    };
  }

  /** A model that continues exactly where the one that produced `state` stopped. */
  static async fromState(state: NeuMfState): Promise<NeuMF> {
    if (state.format !== 'recsys-neumf' || state.version !== 1)
      throw new RangeError('not a NeuMF state (version 1)');
    const model = new NeuMF(state.config);
    model.gmfUsers.restore(state.tables.gmfUsers);
    model.gmfItems.restore(state.tables.gmfItems);
    model.mlpUsers.restore(state.tables.mlpUsers);
    model.mlpItems.restore(state.tables.mlpItems);
    model.contexts.restore(state.tables.contexts);
    model.setDenseWeights(state.dense);
    if (state.optimizer.length > 0) {
      // Adam restores by position: [iterations, first moments..., second moments...], in the
      // order trainBatch applies gradients (Tower.variables order).
      await model.optimizer.setWeights(
        state.optimizer.map((w, i) => ({
          name: i === 0 ? 'iter' : `w${i}`,
          tensor: tf.tensor(w.values, w.shape),
        })),
      );
      if (state.adamPowers !== null) setAdamPowers(model.optimizer, state.adamPowers);
    }
    model.#pending.restore(state.pending);
    model.steps = state.counters.steps;
    model.examples = state.counters.examples;
    model.rejectedSteps = state.counters.rejectedSteps;
    model.lastLoss = state.counters.lastLoss;
    model.random.state = state.random;
    const history = UserHistory.fromState(state.history);
    (model as { history: UserHistory }).history = history;
    (model as { sampler: NegativeSampler }).sampler =
      state.config.sampler === 'popularity'
        ? new PopularitySampler(model.random, history)
        : new UniformSampler(model.random, history);
    model.sampler.restore(state.sampler);
    return model;
  }

  /** Overwrites the tower's weights (Tower.variables order), e.g. from another process. */
  setDenseWeights(weights: readonly TensorState[]): void {
    const vars = this.tower.variables;
    if (weights.length !== vars.length)
      throw new RangeError(`expected ${vars.length} dense tensors, got ${weights.length}`);
    weights.forEach((w, i) => {
      const v = vars[i] as tf.Variable;
      if (w.shape.join('x') !== v.shape.join('x')) {
        throw new RangeError(
          `dense tensor ${i} has shape ${w.shape.join('x')}, the tower needs ${v.shape.join('x')}`,
        );
      }
      v.assign(tf.tensor(w.values, w.shape));
    });
  }

  /** The tower in TF.js's Layers format (model.json topology + weight manifest + binary weights). */
  async exportTower(): Promise<tf.io.ModelArtifacts> {
    let saved: tf.io.ModelArtifacts | undefined;
    await this.tower.model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    return saved as tf.io.ModelArtifacts;
  }

  /** Loads tower weights saved by exportTower (here or in Python via tensorflowjs). */
  async importTower(artifacts: tf.io.ModelArtifacts): Promise<void> {
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    try {
      const weights = loaded.getWeights();
      this.setDenseWeights(
        weights.map((w) => ({ shape: [...w.shape], values: w.dataSync() as Float32Array })),
      );
    } finally {
      loaded.dispose();
    }
  }

  /** Releases the TF.js tensors (tower and optimizer state). */
  dispose(): void {
    this.optimizer.dispose();
    this.tower.model.dispose();
  }

  /** Rows of the MLP input: [user MLP row, item MLP row, context rows...] per example. */
  #mlpInputs(users: Int32Array, items: Int32Array, ctx: Int32Array, b: number): Float32Array {
    const c = this.config;
    const width = this.#mlpInputDim;
    const fields = this.context.fields.length;
    const out = new Float32Array(b * width);
    const mu = this.mlpUsers.vectors;
    const mi = this.mlpItems.vectors;
    const cv = this.contexts.vectors;
    const m = c.mlpDim;
    const cd = c.contextDim;
    for (let k = 0; k < b; k++) {
      const base = k * width;
      out.set(mu.subarray((users[k] as number) * m, (users[k] as number) * m + m), base);
      out.set(mi.subarray((items[k] as number) * m, (items[k] as number) * m + m), base + m);
      if (cd > 0) {
        for (let f = 0; f < fields; f++) {
          const row = ctx[k * fields + f] as number;
          out.set(cv.subarray(row * cd, row * cd + cd), base + 2 * m + f * cd);
        }
      }
    }
    return out;
  }
}
