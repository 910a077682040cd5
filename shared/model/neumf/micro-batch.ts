/** NeuMF's pending micro-batch: examples (user, item, context rows, label, weight) in order. */
export class MicroBatch {
  readonly users: Int32Array;
  readonly items: Int32Array;
  readonly ctx: Int32Array;
  readonly labels: Float32Array;
  readonly weights: Float32Array;
  /** Context rows per example. */
  readonly fields: number;
  size = 0;

  constructor(capacity: number, fields: number) {
    this.fields = fields;
    this.users = new Int32Array(capacity);
    this.items = new Int32Array(capacity);
    this.ctx = new Int32Array(capacity * fields);
    this.labels = new Float32Array(capacity);
    this.weights = new Float32Array(capacity);
  }

  push(user: number, item: number, ctx: Int32Array, label: number, weight: number): void {
    const k = this.size++;
    this.users[k] = user;
    this.items[k] = item;
    this.ctx.set(ctx, k * ctx.length);
    this.labels[k] = label;
    this.weights[k] = weight;
  }

  /** Copies of the pending examples (checkpoints). */
  toState(): {
    users: Int32Array;
    items: Int32Array;
    ctx: Int32Array;
    labels: Float32Array;
    weights: Float32Array;
  } {
    const n = this.size;
    return {
      users: this.users.slice(0, n),
      items: this.items.slice(0, n),
      ctx: this.ctx.slice(0, n * this.fields),
      labels: this.labels.slice(0, n),
      weights: this.weights.slice(0, n),
    };
  }

  restore(state: ReturnType<MicroBatch['toState']>): void {
    this.users.set(state.users);
    this.items.set(state.items);
    this.ctx.set(state.ctx);
    this.labels.set(state.labels);
    this.weights.set(state.weights);
    this.size = state.users.length;
  }
}
