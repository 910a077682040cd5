import { selectTopK, type TopKResult } from './topk.ts';

export interface ItemTransitionsConfig {
  /** How many of a user's previous events each new event is paired with. */
  readonly window: number;
  /** Weight of a pair `d` events apart: `decay^(d-1)` (1 = every pair in the window alike). */
  readonly decay: number;
  /** How many of the user's latest items form a query. */
  readonly recent: number;
  /** Weight of the k-th latest item of a query (k = 0 is the latest): `recentDecay^k`. */
  readonly recentDecay: number;
  /**
   * Neighbours kept per item. A row that grows past twice this is pruned to its strongest
   * `maxNeighbors` (a bounded, approximate table on an unbounded stream; 0 = unbounded).
   */
  readonly maxNeighbors: number;
}

/** Tuned on MovieLens 100K (docs/evaluation.md, "session signal"). */
export const DEFAULT_TRANSITIONS_CONFIG: ItemTransitionsConfig = {
  window: 20,
  decay: 0.9,
  recent: 10,
  recentDecay: 0.5,
  maxNeighbors: 1_000,
};

/** Serializable state (checkpoints). Rows are `[item, neighbour, weight]` triples, flat. */
export interface ItemTransitionsState {
  readonly config: ItemTransitionsConfig;
  readonly degrees: Float64Array;
  readonly pairs: Float64Array;
  readonly recentOffsets: Int32Array;
  readonly recentItems: Int32Array;
}

/** What scoring needs of a transition table (the model here, serving's index, the store's lists). */
export interface TransitionRows<T> {
  /** Calls `visit` for every neighbour of `item` with the pair weight T[item][neighbour]. */
  forEachNeighbor(item: T, visit: (neighbor: T, weight: number) => void): void;
  /** Total weight of an item's row (0 for an item never seen). */
  degree(item: T): number;
}

/**
 * The pairs one event adds (the learning rule, one copy: this model and the trainer use it):
 * `item` with each of the user's `window` previous items (`previous`, oldest first), the pair
 * `d` events apart weighing `weight * decay^(d-1)`; an item is never paired with itself.
 */
export function pairWithPrevious<T>(
  previous: readonly T[],
  item: T,
  weight: number,
  config: Pick<ItemTransitionsConfig, 'window' | 'decay'>,
  pair: (previous: T, weight: number) => void,
): void {
  let w = weight;
  for (let d = 1; d <= config.window && d <= previous.length; d++) {
    const before = previous[previous.length - d] as T;
    if (before !== item) pair(before, w);
    w *= config.decay;
  }
}

/**
 * The scores of a query (the scoring rule, one copy): for the latest items `recent` (most
 * recent first, at most `config.recent`), each neighbour j of the k-th gets
 * `recentDecay^k * T[r_k][j] / sqrt((deg(r_k) + 1) * (deg(j) + 1))`, passed to `add` (a
 * neighbour of several recent items is passed once per item: the caller sums).
 */
export function scoreFromRecent<T>(
  rows: TransitionRows<T>,
  recent: readonly T[],
  config: Pick<ItemTransitionsConfig, 'recent' | 'recentDecay'>,
  add: (item: T, score: number) => void,
): void {
  let w = 1;
  for (let k = 0; k < recent.length && k < config.recent; k++) {
    const r = recent[k] as T;
    const scale = w / Math.sqrt(rows.degree(r) + 1);
    rows.forEachNeighbor(r, (j, t) => add(j, (scale * t) / Math.sqrt(rows.degree(j) + 1)));
    w *= config.recentDecay;
  }
}

/**
 * The session signal: which items follow which in users' streams. Every event is paired with the
 * user's previous `window` events (closer pairs weigh more, `decay`), counted symmetrically, so
 * `T[a][b]` says how often a and b are interacted with close together in time. A user's next
 * items are scored from their latest `recent` items:
 *
 *   score(j) = sum_k recentDecay^k * T[r_k][j] / sqrt((deg(r_k) + 1) * (deg(j) + 1))
 *
 * where `deg(i)` is the total weight of row i (a cosine-like normalisation: an item that follows
 * everything says little about any one item). This is item-to-item collaborative filtering over
 * time-adjacent pairs (the "session" source of serving); it learns one event at a time, in the
 * stream's order, and never needs a second pass.
 */
export class ItemTransitions implements TransitionRows<number> {
  readonly config: ItemTransitionsConfig;
  readonly #rows: (Map<number, number> | undefined)[] = [];
  #degrees = new Float64Array(64);
  /** Per user: the latest items, most recent last (at most max(window, recent)). */
  readonly #recent: (number[] | undefined)[] = [];
  readonly #keep: number;

  constructor(config: Partial<ItemTransitionsConfig> = {}) {
    this.config = { ...DEFAULT_TRANSITIONS_CONFIG, ...config };
    const { window, decay, recent, recentDecay, maxNeighbors } = this.config;
    if (!Number.isInteger(window) || window < 1) throw new RangeError('window must be a positive integer');
    if (!Number.isInteger(recent) || recent < 1) throw new RangeError('recent must be a positive integer');
    if (!(decay > 0 && decay <= 1)) throw new RangeError('decay must be in (0, 1]');
    if (!(recentDecay > 0 && recentDecay <= 1)) throw new RangeError('recentDecay must be in (0, 1]');
    if (!Number.isInteger(maxNeighbors) || maxNeighbors < 0)
      throw new RangeError('maxNeighbors must be a non-negative integer');
    this.#keep = Math.max(window, recent);
  }

  /** Learns one event: pairs `item` with the user's previous items, then remembers it. */
  observe(user: number, item: number, weight = 1): void {
    if (!(weight > 0) || !Number.isFinite(weight)) return;
    let list = this.#recent[user];
    if (list === undefined) {
      list = [];
      this.#recent[user] = list;
    }
    pairWithPrevious(list, item, weight, this.config, (previous, w) => {
      this.#add(previous, item, w);
      this.#add(item, previous, w);
    });
    list.push(item);
    if (list.length > this.#keep) list.splice(0, list.length - this.#keep);
  }

  /** The user's latest items, most recent first (at most `recent`). */
  recentItems(user: number): number[] {
    const list = this.#recent[user] ?? [];
    return list.slice(-this.config.recent).reverse();
  }

  /** Scores of every item for a user's next interaction, into `out` (zero when nothing is known). */
  scoreAll(user: number, out: Float32Array): void {
    this.scoreFrom(this.recentItems(user), out);
  }

  /** Scores from a given list of latest items (most recent first), into `out`. */
  scoreFrom(recent: readonly number[], out: Float32Array): void {
    out.fill(0);
    scoreFromRecent(this, recent, this.config, (j, score) => {
      if (j < out.length) out[j] = (out[j] as number) + score;
    });
  }

  forEachNeighbor(item: number, visit: (neighbor: number, weight: number) => void): void {
    this.#rows[item]?.forEach((weight, neighbor) => visit(neighbor, weight));
  }

  /** The pair weight T[a][b] (0 when never seen together). */
  weight(a: number, b: number): number {
    return this.#rows[a]?.get(b) ?? 0;
  }

  /** Total weight of an item's row. */
  degree(item: number): number {
    return item < this.#degrees.length ? (this.#degrees[item] as number) : 0;
  }

  /** The k items most often next to `item`, by normalised weight (never itself). */
  neighbors(item: number, k: number): TopKResult {
    const row = this.#rows[item];
    if (row === undefined) return { indices: new Int32Array(0), scores: new Float32Array(0) };
    const ids = Int32Array.from(row.keys());
    const scores = new Float32Array(ids.length);
    const self = Math.sqrt(this.degree(item) + 1);
    ids.forEach((j, n) => (scores[n] = (row.get(j) as number) / (self * Math.sqrt(this.degree(j) + 1))));
    const top = selectTopK(scores, k);
    return { indices: Int32Array.from(top.indices, (n) => ids[n] as number), scores: top.scores };
  }

  toState(): ItemTransitionsState {
    const pairs: number[] = [];
    this.#rows.forEach((row, item) => row?.forEach((w, j) => pairs.push(item, j, w)));
    const recentOffsets = new Int32Array(this.#recent.length + 1);
    const recentItems: number[] = [];
    for (let user = 0; user < this.#recent.length; user++) {
      const list = this.#recent[user];
      if (list !== undefined) recentItems.push(...list);
      recentOffsets[user + 1] = recentItems.length;
    }
    return {
      config: this.config,
      degrees: this.#degrees.slice(0, this.#rows.length),
      pairs: Float64Array.from(pairs),
      recentOffsets,
      recentItems: Int32Array.from(recentItems),
    };
  }

  static fromState(state: ItemTransitionsState): ItemTransitions {
    const model = new ItemTransitions(state.config);
    for (let p = 0; p + 2 < state.pairs.length; p += 3) {
      const a = state.pairs[p] as number;
      const b = state.pairs[p + 1] as number;
      model.#row(a).set(b, state.pairs[p + 2] as number);
    }
    model.#ensureDegree(state.degrees.length - 1);
    model.#degrees.set(state.degrees);
    for (let user = 0; user + 1 < state.recentOffsets.length; user++) {
      const from = state.recentOffsets[user] as number;
      const to = state.recentOffsets[user + 1] as number;
      if (to > from) model.#recent[user] = Array.from(state.recentItems.subarray(from, to));
    }
    return model;
  }

  #add(a: number, b: number, w: number): void {
    const row = this.#row(a);
    row.set(b, (row.get(b) ?? 0) + w);
    this.#degrees[a] = (this.#degrees[a] as number) + w;
    const max = this.config.maxNeighbors;
    if (max > 0 && row.size > 2 * max) this.#prune(a, row, max);
  }

  /** Keeps the `keep` strongest neighbours of a row; the degree keeps the pruned weight (it is history). */
  #prune(a: number, row: Map<number, number>, keep: number): void {
    const entries = [...row].sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    const kept = new Map(entries.slice(0, keep));
    this.#rows[a] = kept;
  }

  #row(a: number): Map<number, number> {
    let row = this.#rows[a];
    if (row === undefined) {
      row = new Map();
      this.#rows[a] = row;
      this.#ensureDegree(a);
    }
    return row;
  }

  #ensureDegree(item: number): void {
    if (item < this.#degrees.length) return;
    const grown = new Float64Array(Math.max(2 * this.#degrees.length, item + 1));
    grown.set(this.#degrees);
    this.#degrees = grown;
  }
}
