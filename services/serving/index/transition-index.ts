import type { TransitionRows } from '../../../shared/model/item-transitions.ts';
import type { Logger } from '../../../shared/observability/index.ts';
import {
  TRANSITIONS_STREAM,
  type ChangeFeeds,
  type ServingReads,
  type TransitionList,
} from '../../../shared/ports/index.ts';
import { ChangeFollower } from './change-follower.ts';
import type { ItemIndex } from './item-index.ts';

const CHUNK = 1_000;
const NONE_I = new Int32Array(0);
const NONE_F = new Float32Array(0);

/**
 * The session signal's transition lists (what the trainer learnt: SessionLearner), in memory by
 * item position, for scoring a user's latest items with the one scoring rule (scoreFromRecent).
 * Loaded whole once (every item of the index), then kept current from the `transitions` change
 * stream. A list naming an item the index does not know yet is kept aside and resolved again
 * once the index has grown (the two are written in one commit but followed separately).
 */
export class TransitionIndex implements TransitionRows<number> {
  readonly #index: ItemIndex;
  readonly #store: ServingReads & ChangeFeeds;
  readonly #logger: Logger;
  readonly #changes = new ChangeFollower(TRANSITIONS_STREAM);
  #neighbors: Int32Array[] = [];
  #weights: Float32Array[] = [];
  #degrees = new Float64Array(0);
  /** Lists not placed yet: their item or a neighbour is not in the index. */
  readonly #unresolved = new Map<string, TransitionList>();
  #resolvedAtSize = 0;
  loaded = false;

  constructor(index: ItemIndex, store: ServingReads & ChangeFeeds, logger: Logger) {
    this.#index = index;
    this.#store = store;
    this.#logger = logger;
  }

  degree(position: number): number {
    return position < this.#degrees.length ? (this.#degrees[position] as number) : 0;
  }

  forEachNeighbor(position: number, visit: (neighbor: number, weight: number) => void): void {
    const neighbors = this.#neighbors[position] ?? NONE_I;
    const weights = this.#weights[position] ?? NONE_F;
    for (let j = 0; j < neighbors.length; j++) visit(neighbors[j] as number, weights[j] as number);
  }

  /** Reads every list of the index's items (after the item index loaded). */
  async load(): Promise<void> {
    await this.#changes.skipToEnd(this.#store);
    const ids = Array.from({ length: this.#index.size }, (_, p) => this.#index.idAt(p));
    await this.#read(ids);
    this.loaded = true;
  }

  /** Applies the lists changed since the last call, and places lists that waited for the index. */
  async refresh(): Promise<void> {
    if (!this.loaded) return this.load();
    let more = true;
    while (more) {
      const poll = await this.#changes.poll(this.#store);
      more = poll.more;
      await this.#read(poll.ids);
    }
    if (this.#unresolved.size > 0 && this.#index.size !== this.#resolvedAtSize) {
      this.#resolvedAtSize = this.#index.size;
      const waiting = [...this.#unresolved];
      this.#unresolved.clear();
      for (const [id, list] of waiting) this.#place(id, list);
    }
  }

  async #read(ids: readonly string[]): Promise<void> {
    for (let start = 0; start < ids.length; start += CHUNK) {
      const chunk = ids.slice(start, start + CHUNK);
      const lists = await this.#store.getTransitions(chunk);
      chunk.forEach((id, k) => {
        const list = lists[k];
        if (list !== undefined) this.#place(id, list);
      });
    }
  }

  #place(id: string, list: TransitionList): void {
    const index = this.#index;
    const p = index.indexOf(id);
    const positions = list.neighbors.map((n) => index.indexOf(n.itemId));
    if (p < 0 || positions.some((q) => q < 0)) {
      if (this.#unresolved.size === 0)
        this.#logger.debug({ itemId: id }, 'transition list waits for the index');
      this.#unresolved.set(id, list);
    }
    if (p < 0) return;
    // What is known now is placed at once (the rest when the index knows it).
    const kept = positions.flatMap((q, j) => (q < 0 ? [] : [j]));
    if (p >= this.#degrees.length) {
      const grown = new Float64Array(Math.max(1_024, 2 * (p + 1)));
      grown.set(this.#degrees);
      this.#degrees = grown;
    }
    this.#degrees[p] = list.degree;
    this.#neighbors[p] = Int32Array.from(kept, (j) => positions[j] as number);
    this.#weights[p] = Float32Array.from(kept, (j) => (list.neighbors[j] as { weight: number }).weight);
  }
}
