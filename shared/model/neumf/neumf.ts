import { NEUMF_TABLES } from '../registry.ts';
import * as tf from '@tensorflow/tfjs';
import { ContextEncoder, type Context } from '../context.ts';
import { EmbeddingTable, type TableState } from '../embedding-table.ts';
import {
  PopularitySampler,
  UniformSampler,
  type NegativeSampler,
  type SamplerState,
} from '../negative-sampler.ts';
import { updateRow, type RowOptimizerConfig } from '../optimizer.ts';
import { Random } from '../random.ts';
import { UserHistory } from '../user-history.ts';
import { buildTower, forward, type Tower } from './tower.ts';

export interface NeuMfConfig {
  readonly seed: number;
  /** GMF embedding size (per side). */
  readonly gmfDim: number;
  /** MLP embedding size per side: the MLP input is 2 * mlpDim + context. */
  readonly mlpDim: number;
  /** Hidden layer sizes of the MLP tower ("MLP 64-32-16" = mlpDim 32, hidden [32, 16]). */
  readonly hidden: readonly number[];
  /** Size of each context field's embedding (0: no context). */
  readonly contextDim: number;
  /** Extra categorical context fields besides hour, dow and device. */
  readonly contextFields: readonly string[];
  /** Sampled negatives per positive. */
  readonly negatives: number;
  readonly sampler: 'uniform' | 'popularity';
  /** Examples per training step (micro-batch). */
  readonly batchSize: number;
  readonly initStd: number;
  readonly historySize: number;
  /** Row-wise optimizer of the embedding rows. */
  readonly rowOptimizer: RowOptimizerConfig;
  /** Adam learning rate of the dense tower. */
  readonly denseLearningRate: number;
}

export const DEFAULT_NEUMF_CONFIG: NeuMfConfig = {
  seed: 42,
  gmfDim: 32,
  mlpDim: 32,
  hidden: [32, 16],
  contextDim: 8,
  contextFields: [],
  negatives: 4,
  sampler: 'uniform',
  batchSize: 256,
  initStd: 0.01,
  historySize: 256,
  rowOptimizer: {
    kind: 'adagrad',
    learningRate: 0.05,
    l2: 0,
    clipNorm: 5,
    maxNorm: 10,
    epsilon: 1e-8,
    initialAccumulator: 0.1,
  },
  denseLearningRate: 0.002,
};

/** An interaction for NeuMF: interned user and item, weight (negative = does not want), context. */
export interface NeuMfInteraction {
  readonly user: number;
  readonly item: number;
  readonly weight: number;
  readonly time: number;
  readonly context?: Context | undefined;
}

/** A dense tensor's values and shape. */
export interface TensorState {
  readonly shape: number[];
  readonly values: Float32Array;
}

/** Everything needed to resume NeuMF training exactly where it stopped. */
export interface NeuMfState {
  readonly format: 'recsys-neumf';
  readonly version: 1;
  readonly config: NeuMfConfig;
  readonly tables: Record<'gmfUsers' | 'gmfItems' | 'mlpUsers' | 'mlpItems' | 'contexts', TableState>;
  /** Tower weights in Tower.variables order. */
  readonly dense: TensorState[];
  /** Adam's iteration count and moments, in the optimizer's own order. */
  readonly optimizer: TensorState[];
  /** Adam's running powers beta1^t and beta2^t, exactly as accumulated (pow() would round differently). */
  readonly adamPowers: [number, number] | null;
  readonly pending: {
    users: Int32Array;
    items: Int32Array;
    ctx: Int32Array;
    labels: Float32Array;
    weights: Float32Array;
  };
  readonly counters: { steps: number; examples: number; rejectedSteps: number; lastLoss: number };
  readonly random: number;
  readonly history: ReturnType<UserHistory['toState']>;
  readonly sampler: SamplerState;
}

/**
 * NeuMF (He et al. 2017: GMF and MLP towers joined by one output unit) with context embeddings in
 * the MLP tower, trained from the event stream in micro-batches.
 *
 * Embedding rows stay sparse, outside TF.js (DESIGN.md): each step gathers the rows of the batch
 * into small tensors, TF.js computes the loss and the gradients with respect to those tensors and
 * the dense tower, the rows get row-wise Adagrad updates (duplicates within a batch summed) and the
 * tower gets Adam. Nothing in TF.js ever holds a whole table.
 */
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
  // The pending micro-batch.
  readonly #users: Int32Array;
  readonly #items: Int32Array;
  readonly #ctx: Int32Array;
  readonly #labels: Float32Array;
  readonly #weights: Float32Array;
  #pending = 0;
  /** Scratch of #applyRowGradients: row -> slot, each slot's row and summed gradient. */
  readonly #rowSlots = new Map<number, number>();
  #slotRows = new Int32Array(0);
  #rowSums = new Float32Array(0);

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
    this.#users = new Int32Array(capacity);
    this.#items = new Int32Array(capacity);
    this.#ctx = new Int32Array(capacity * this.context.fields.length);
    this.#labels = new Float32Array(capacity);
    this.#weights = new Float32Array(capacity);
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
      this.#push(x.user, x.item, ctx, 1, x.weight);
      const count = negatives === undefined ? this.config.negatives : negatives.length;
      for (let n = 0; n < count; n++) {
        const j =
          negatives === undefined
            ? this.sampler.sample(x.user, this.gmfItems.size, x.item)
            : (negatives[n] as number);
        if (j >= 0) this.#push(x.user, j, ctx, 0, 1);
      }
      this.history.add(x.user, x.item);
      this.sampler.observe(x.item);
      this.gmfUsers.counts[x.user] = (this.gmfUsers.counts[x.user] as number) + 1;
      this.gmfItems.counts[x.item] = (this.gmfItems.counts[x.item] as number) + 1;
    } else {
      this.#push(x.user, x.item, ctx, 0, -x.weight);
    }
    return this.#pending >= this.config.batchSize ? this.flush() : undefined;
  }

  /** Trains on whatever is in the micro-batch now. Returns the step's mean loss (NaN if rejected). */
  flush(): number | undefined {
    const n = this.#pending;
    if (n === 0) return undefined;
    this.#pending = 0;
    return this.trainBatch(
      this.#users.subarray(0, n),
      this.#items.subarray(0, n),
      this.#ctx.subarray(0, n * this.context.fields.length),
      this.#labels.subarray(0, n),
      this.#weights.subarray(0, n),
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
    this.#applyRowGradients(users, items, ctx, rowGrads, b, fields, useContext);
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
    const n = this.#pending;
    const f = this.context.fields.length;
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
      pending: {
        users: this.#users.slice(0, n),
        items: this.#items.slice(0, n),
        ctx: this.#ctx.slice(0, n * f),
        labels: this.#labels.slice(0, n),
        weights: this.#weights.slice(0, n),
      },
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
    const p = state.pending;
    model.#users.set(p.users);
    model.#items.set(p.items);
    model.#ctx.set(p.ctx);
    model.#labels.set(p.labels);
    model.#weights.set(p.weights);
    model.#pending = p.users.length;
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

  #push(user: number, item: number, ctx: Int32Array, label: number, weight: number): void {
    const k = this.#pending++;
    this.#users[k] = user;
    this.#items[k] = item;
    this.#ctx.set(ctx, k * ctx.length);
    this.#labels[k] = label;
    this.#weights[k] = weight;
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

  /** Sums gradients of duplicate rows and applies one row-wise update per distinct row. */
  #applyRowGradients(
    users: Int32Array,
    items: Int32Array,
    ctx: Int32Array,
    grads: Float32Array,
    b: number,
    fields: number,
    useContext: boolean,
  ): void {
    const c = this.config;
    const g = c.gmfDim;
    const m = c.mlpDim;
    const cd = c.contextDim;
    // Gradient row layout per example: [d ug (g), d ig (g), d mlp input (2m + fields * cd)].
    const stride = 2 * g + this.#mlpInputDim;
    // Per-example gradients: the loss is a mean over the batch, rows get each example's share back.
    const scale = b;
    const apply = (table: EmbeddingTable, indices: ArrayLike<number>, column: number, dim: number) => {
      // Distinct rows in order of first appearance; their gradients summed in example order.
      const slots = this.#rowSlots;
      slots.clear();
      const n = indices.length;
      if (this.#rowSums.length < n * dim) this.#rowSums = new Float32Array(n * dim);
      if (this.#slotRows.length < n) this.#slotRows = new Int32Array(n);
      const sums = this.#rowSums;
      const rows = this.#slotRows;
      for (let k = 0; k < n; k++) {
        const row = indices[k] as number;
        let slot = slots.get(row);
        const from = k * stride + column;
        if (slot === undefined) {
          slot = slots.size;
          slots.set(row, slot);
          rows[slot] = row;
          sums.set(grads.subarray(from, from + dim), slot * dim);
          continue;
        }
        const to = slot * dim;
        for (let d = 0; d < dim; d++) sums[to + d] = (sums[to + d] as number) + (grads[from + d] as number);
      }
      for (let slot = 0; slot < slots.size; slot++) {
        const row = rows[slot] as number;
        updateRow(table.vectors, table.accum, row, sums, scale, dim, c.rowOptimizer, slot * dim);
        table.markDirty(row, 0);
      }
    };
    apply(this.gmfUsers, users, 0, g);
    apply(this.gmfItems, items, g, g);
    apply(this.mlpUsers, users, 2 * g, m);
    apply(this.mlpItems, items, 2 * g + m, m);
    if (useContext) {
      const rows = new Int32Array(b);
      for (let f = 0; f < fields; f++) {
        for (let k = 0; k < b; k++) rows[k] = ctx[k * fields + f] as number;
        apply(this.contexts, rows, 2 * g + 2 * m + f * cd, cd);
      }
    }
  }
}

/**
 * TF.js's Adam keeps beta1^t and beta2^t as running products (private fields accBeta1/accBeta2);
 * setWeights() recomputes them with pow(), which rounds differently. Saving and restoring the
 * products makes a resumed run bit-identical to an uninterrupted one.
 */
interface AdamInternals {
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
}

function adamPowers(optimizer: tf.Optimizer): [number, number] | null {
  const adam = optimizer as unknown as AdamInternals;
  if (adam.accBeta1 === undefined || adam.accBeta2 === undefined) return null;
  return [adam.accBeta1.dataSync()[0] as number, adam.accBeta2.dataSync()[0] as number];
}

function setAdamPowers(optimizer: tf.Optimizer, [beta1, beta2]: [number, number]): void {
  const adam = optimizer as unknown as AdamInternals;
  adam.accBeta1?.assign(tf.scalar(beta1));
  adam.accBeta2?.assign(tf.scalar(beta2));
}

/** Copies the rows `indices` of a table into one row-major array. */
export function gather(table: EmbeddingTable, indices: ArrayLike<number>): Float32Array {
  const dim = table.dim;
  const out = new Float32Array(indices.length * dim);
  const vectors = table.vectors;
  for (let k = 0; k < indices.length; k++) {
    const row = indices[k] as number;
    out.set(vectors.subarray(row * dim, row * dim + dim), k * dim);
  }
  return out;
}

function allFinite(values: Float32Array): boolean {
  let sum = 0;
  for (let k = 0; k < values.length; k++) sum += (values[k] as number) * 0;
  return sum === 0;
}
