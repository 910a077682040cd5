import { initialVector } from './random.ts';

/** Everything a table holds, as plain typed arrays (for checkpoints). */
export interface TableState {
  readonly name: string;
  readonly dim: number;
  readonly ids: readonly string[];
  readonly vectors: Float32Array;
  readonly biases: Float32Array;
  readonly counts: Float64Array;
  readonly accum: Float32Array;
  readonly biasAccum: Float32Array;
  readonly touched: Float64Array;
}

export interface EmbeddingTableOptions {
  /** Table name; part of the deterministic initialisation and of store keys (`mf:user`, ...). */
  readonly name: string;
  readonly dim: number;
  readonly seed: number;
  /** Standard deviation of the initial values (0: start at zero). */
  readonly initStd: number;
  /** Keep Adagrad accumulators per row. */
  readonly adagrad: boolean;
  readonly initialCapacity?: number;
}

/**
 * A sparse, growable table of embedding rows: an id -> index map and flat typed arrays (vectors,
 * biases, interaction counts, optimizer state, last-touched times). Rows are created lazily on
 * first use with a deterministic initial vector. The training code works on indices and
 * subarray views, never on per-row objects.
 */
export class EmbeddingTable {
  readonly name: string;
  readonly dim: number;
  readonly #seed: number;
  readonly #initStd: number;
  readonly #adagrad: boolean;
  readonly #index = new Map<string, number>();
  #ids: string[] = [];
  #capacity: number;
  vectors: Float32Array;
  biases: Float32Array;
  counts: Float64Array;
  /** Row-wise Adagrad accumulator per row (empty without Adagrad). */
  accum: Float32Array;
  biasAccum: Float32Array;
  touched: Float64Array;
  /** Rows changed since the last takeDirty(): a flag per row plus the list of flagged rows. */
  #dirtyFlag: Uint8Array;
  #dirtyList: Int32Array;
  #dirtyCount = 0;

  constructor(options: EmbeddingTableOptions) {
    this.name = options.name;
    this.dim = options.dim;
    this.#seed = options.seed;
    this.#initStd = options.initStd;
    this.#adagrad = options.adagrad;
    this.#capacity = Math.max(16, options.initialCapacity ?? 1024);
    this.vectors = new Float32Array(this.#capacity * this.dim);
    this.biases = new Float32Array(this.#capacity);
    this.counts = new Float64Array(this.#capacity);
    this.accum = new Float32Array(this.#adagrad ? this.#capacity : 0);
    this.#dirtyFlag = new Uint8Array(this.#capacity);
    this.#dirtyList = new Int32Array(this.#capacity);
    this.biasAccum = new Float32Array(this.#adagrad ? this.#capacity : 0);
    this.touched = new Float64Array(this.#capacity);
  }

  get size(): number {
    return this.#ids.length;
  }

  /** Index of an id, or -1 when the row does not exist. */
  indexOf(id: string): number {
    return this.#index.get(id) ?? -1;
  }

  idAt(index: number): string {
    return this.#ids[index] as string;
  }

  ids(): readonly string[] {
    return this.#ids;
  }

  /** Index of an id, creating the row (deterministically initialised) when missing. */
  ensure(id: string): number {
    const found = this.#index.get(id);
    if (found !== undefined) return found;
    const index = this.#ids.length;
    if (index >= this.#capacity) this.#grow(index + 1);
    this.#ids.push(id);
    this.#index.set(id, index);
    if (this.#initStd > 0) initialVector(this.row(index), this.#seed, this.name, id, this.#initStd);
    this.#flag(index);
    return index;
  }

  /** The initial vector a row of this id gets, without creating it. */
  initialRow(id: string): Float32Array {
    const out = new Float32Array(this.dim);
    return this.#initStd > 0 ? initialVector(out, this.#seed, this.name, id, this.#initStd) : out;
  }

  /** A live view of a row's vector. */
  row(index: number): Float32Array {
    return this.vectors.subarray(index * this.dim, (index + 1) * this.dim);
  }

  markDirty(index: number, time: number): void {
    if (this.#dirtyFlag[index] === 0) this.#flag(index);
    if (time > (this.touched[index] as number)) this.touched[index] = time;
  }

  /** The rows changed since the last call, and forget them. */
  takeDirty(): number[] {
    const out = Array.from(this.#dirtyList.subarray(0, this.#dirtyCount));
    for (const index of out) this.#dirtyFlag[index] = 0;
    this.#dirtyCount = 0;
    return out;
  }

  #flag(index: number): void {
    this.#dirtyFlag[index] = 1;
    this.#dirtyList[this.#dirtyCount++] = index;
  }

  /** Overwrites a row's values (from the store), keeping optimizer state. */
  load(id: string, vector: Float32Array, bias: number, count: number): number {
    if (vector.length !== this.dim) {
      throw new RangeError(`${this.name}/${id} has ${vector.length} dimensions, the table ${this.dim}`);
    }
    const index = this.ensure(id);
    this.row(index).set(vector);
    this.biases[index] = bias;
    this.counts[index] = count;
    return index;
  }

  /** A copy of the table's contents (rows in index order). */
  snapshot(): TableState {
    const n = this.size;
    return {
      name: this.name,
      dim: this.dim,
      ids: [...this.#ids],
      vectors: this.vectors.slice(0, n * this.dim),
      biases: this.biases.slice(0, n),
      counts: this.counts.slice(0, n),
      accum: this.accum.slice(0, this.#adagrad ? n : 0),
      biasAccum: this.biasAccum.slice(0, this.#adagrad ? n : 0),
      touched: this.touched.slice(0, n),
    };
  }

  /** Replaces the contents with a snapshot of a table with the same name and dimension. */
  restore(state: TableState): void {
    if (state.name !== this.name || state.dim !== this.dim) {
      throw new RangeError(`snapshot of ${state.name}/${state.dim} cannot restore ${this.name}/${this.dim}`);
    }
    const n = state.ids.length;
    this.#ids = [...state.ids];
    this.#index.clear();
    this.#ids.forEach((id, i) => this.#index.set(id, i));
    this.#dirtyCount = 0;
    this.#dirtyFlag.fill(0);
    if (n > this.#capacity) this.#grow(n);
    this.vectors.set(state.vectors);
    this.biases.set(state.biases);
    this.counts.set(state.counts);
    this.touched.set(state.touched);
    if (this.#adagrad) {
      this.accum.set(state.accum.length === n ? state.accum : new Float32Array(n));
      this.biasAccum.set(state.biasAccum.length === n ? state.biasAccum : new Float32Array(n));
    }
  }

  #grow(minimum: number): void {
    let capacity = this.#capacity;
    while (capacity < minimum) capacity *= 2;
    const grow = <T extends Float32Array | Float64Array>(
      old: T,
      width: number,
      make: (n: number) => T,
    ): T => {
      const next = make(capacity * width);
      next.set(old);
      return next;
    };
    this.vectors = grow(this.vectors, this.dim, (n) => new Float32Array(n));
    this.biases = grow(this.biases, 1, (n) => new Float32Array(n));
    this.counts = grow(this.counts, 1, (n) => new Float64Array(n));
    this.touched = grow(this.touched, 1, (n) => new Float64Array(n));
    if (this.#adagrad) {
      this.accum = grow(this.accum, 1, (n) => new Float32Array(n));
      this.biasAccum = grow(this.biasAccum, 1, (n) => new Float32Array(n));
    }
    const flags = new Uint8Array(capacity);
    flags.set(this.#dirtyFlag);
    this.#dirtyFlag = flags;
    const list = new Int32Array(capacity);
    list.set(this.#dirtyList.subarray(0, this.#dirtyCount));
    this.#dirtyList = list;
    this.#capacity = capacity;
  }
}
