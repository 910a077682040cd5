import { grown } from '../../../shared/model/stamps.ts';
import { selectTopK, type TopKResult } from '../../../shared/model/topk.ts';
import { BackgroundPacer } from '../process/pacer.ts';

export interface NeighborCacheOptions {
  /** Computes an item's neighbours (positions and similarities, best first). */
  readonly compute: (position: number) => TopKResult;
  /** A number that changes when every cached list may be wrong (e.g. the catalog version). */
  readonly generation?: () => number;
  /** Lists older than this are recomputed (the vectors they come from keep learning). */
  readonly ttlMs?: number;
  /** Entries a list keeps when an item is offered to it (default: the length it was computed with). */
  readonly size?: number;
  readonly capacity?: number;
  readonly clock?: () => number;
  /** Where missing lists are computed in the background: share one per process (background.ts). */
  readonly background?: BackgroundPacer;
}

interface Entry {
  readonly result: TopKResult;
  readonly at: number;
  readonly generation: number;
  readonly epoch: number;
}

/** Lists waiting beyond this are not queued (they are asked for again by a later request). */
const MAX_QUEUED = 10_000;

/**
 * Each item's nearest items, computed once and cached, so a request's "near what you touched"
 * candidates are a merge of a few short lists instead of scans of the whole catalog. A list is
 * out of date after `ttlMs`, when the generation changes or after invalidateAll; a changed item
 * is placed in the lists it belongs in with `changed` (content: a new item shows up in its
 * neighbours' lists at once - that is cold start - without outdating every other list).
 *
 * A request computes at most a few missing or outdated lists itself (`budget`); the others are
 * computed in the background, in short slices between requests, and meanwhile the request uses
 * the outdated list or none. A large catalog's lists are mostly cold, and a miss costs a search
 * of the catalog: this keeps that cost off the request path. The background is a BackgroundPacer
 * shared with the process's other caches, so together they take at most a fifth of its time
 * (a large catalog's queue may never run dry).
 */
export class NeighborCache {
  readonly #options: NeighborCacheOptions;
  readonly #clock: () => number;
  readonly #cache = new Map<number, Entry>();
  /** Lists to compute in the background. */
  readonly #queue = new Set<number>();
  /** Bumped by invalidateAll: every list computed before is outdated. */
  #epoch = 0;
  readonly #background: BackgroundPacer;
  /** Computes one queued list; true while more are queued (the background's job). */
  readonly #step = (): boolean => {
    for (const position of this.#queue) {
      this.#queue.delete(position);
      const cached = this.#cache.get(position);
      if (cached === undefined || !this.#current(cached)) this.#compute(position);
      break;
    }
    return this.#queue.size > 0;
  };
  // Scratch of nearInto, reused by every call: best score per position, valid where its stamp is
  // the call's generation; the positions met, in order; their scores for the top-k.
  #best = new Float64Array(1024);
  #stamp = new Uint32Array(1024);
  #generation = 0;
  #touched = new Int32Array(1024);
  #values = new Float64Array(1024);

  constructor(options: NeighborCacheOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#background = options.background ?? new BackgroundPacer();
  }

  /** An item's list, computed now when missing or out of date. */
  of(position: number): TopKResult {
    const cached = this.#cache.get(position);
    return cached !== undefined && this.#current(cached) ? cached.result : this.#compute(position);
  }

  /** Lists waiting for the background (for tests and metrics). */
  get queued(): number {
    return this.#queue.size;
  }

  /** Lists cached (current or not). */
  get size(): number {
    return this.#cache.size;
  }

  /** Every list is outdated (recomputed when next used; meanwhile it still answers). */
  invalidateAll(): void {
    this.#epoch++;
  }

  /**
   * An item changed (e.g. its content features): its own list is dropped, the lists of its
   * previous neighbours lose it, and the lists of its neighbours now (`near`, with their
   * similarities) gain it where it ranks among their best. No other list is recomputed: a new
   * item enters the lists of the items it resembles at once (cold start), for the cost of one
   * search, instead of every cached list going out of date.
   */
  changed(position: number, near: TopKResult): void {
    const previous = this.#cache.get(position);
    this.#cache.delete(position);
    if (previous !== undefined)
      for (let j = 0; j < previous.result.indices.length; j++)
        this.#place(previous.result.indices[j] as number, position, undefined);
    for (let j = 0; j < near.indices.length; j++)
      this.#place(near.indices[j] as number, position, near.scores[j] as number);
  }

  /**
   * Puts `position` into `into`'s cached list with `score` (undefined: takes it out), keeping
   * the list sorted (best first; among equal scores the earlier entry first) and at most its size.
   */
  #place(into: number, position: number, score: number | undefined): void {
    const entry = this.#cache.get(into);
    if (entry === undefined || into === position) return;
    const { indices, scores } = entry.result;
    const size = this.#options.size ?? indices.length;
    const was = indices.indexOf(position);
    if (was < 0 && score === undefined) return;
    // Not in the list and not better than its last entry: nothing to do.
    if (was < 0 && indices.length >= size && !((score as number) > (scores[indices.length - 1] as number)))
      return;
    const keptIds: number[] = [];
    const keptScores: number[] = [];
    let placed = score === undefined;
    for (let j = 0; j < indices.length; j++) {
      if (j === was) continue;
      const s = scores[j] as number;
      if (!placed && (score as number) > s) {
        keptIds.push(position);
        keptScores.push(score as number);
        placed = true;
      }
      keptIds.push(indices[j] as number);
      keptScores.push(s);
    }
    if (!placed) {
      keptIds.push(position);
      keptScores.push(score as number);
    }
    const length = Math.min(size, keptIds.length);
    this.#cache.set(into, {
      ...entry,
      result: {
        indices: Int32Array.from(keptIds.slice(0, length)),
        scores: Float32Array.from(keptScores.slice(0, length)),
      },
    });
  }

  #current(entry: Entry): boolean {
    return (
      entry.epoch === this.#epoch &&
      entry.generation === (this.#options.generation?.() ?? 0) &&
      this.#clock() - entry.at < (this.#options.ttlMs ?? Number.POSITIVE_INFINITY)
    );
  }

  #compute(position: number): TopKResult {
    const result = this.#options.compute(position);
    const capacity = this.#options.capacity ?? 200_000;
    if (this.#cache.size >= capacity) {
      // Drop the oldest tenth (a Map iterates in insertion order), not everything at once.
      let drop = Math.ceil(capacity / 10);
      for (const key of this.#cache.keys()) {
        if (drop-- <= 0) break;
        this.#cache.delete(key);
      }
    }
    this.#cache.delete(position);
    this.#cache.set(position, {
      result,
      at: this.#clock(),
      generation: this.#options.generation?.() ?? 0,
      epoch: this.#epoch,
    });
    return result;
  }

  /** The list to use now: computed when the budget allows, else queued (the outdated one, or none). */
  #lookup(position: number, budget: { left: number }): TopKResult | undefined {
    const cached = this.#cache.get(position);
    if (cached !== undefined && this.#current(cached)) return cached.result;
    if (budget.left > 0) {
      budget.left--;
      return this.#compute(position);
    }
    if (this.#queue.size < MAX_QUEUED) this.#queue.add(position);
    this.#background.add(this.#step);
    return cached?.result;
  }

  /**
   * Items close to something in a weighted set of items (what a user touched, recent ones
   * weighing more): score = the largest weight x similarity over the set; the best `k` that pass
   * `skip` (ties: the one met first, walking the lists from the latest item's), best first,
   * handed to `each`. The largest, not the mean: an item just like one thing the user liked is a
   * strong candidate even when the rest of their history is elsewhere. At most `budget` missing or outdated lists are computed here (the
   * most recent items' first when `items` is oldest first: they come last); the rest are queued.
   */
  nearInto(
    items: ArrayLike<number>,
    weights: ArrayLike<number>,
    k: number,
    skip: (position: number) => boolean,
    each: (position: number, score: number) => void,
    budget = Number.POSITIVE_INFINITY,
  ): void {
    const left = { left: budget };
    // Scratch in locals: the merge loop below runs ~750 times a request.
    let best = this.#best;
    let stamp = this.#stamp;
    let touched = this.#touched;
    const generation = this.#nextGeneration();
    let n = 0;
    for (let i = items.length - 1; i >= 0; i--) {
      const weight = weights[i] as number;
      const neighbours = this.#lookup(items[i] as number, left);
      if (neighbours === undefined) continue;
      const { indices, scores } = neighbours;
      const size = indices.length;
      // Room for every position of this list, once per list rather than once per entry.
      let largest = 0;
      for (let j = 0; j < size; j++) if ((indices[j] as number) > largest) largest = indices[j] as number;
      if (largest >= best.length) {
        best = this.#best = grown(best, Math.max(1024, 2 * (largest + 1)));
        stamp = this.#stamp = grown(stamp, best.length);
      }
      if (n + size > touched.length) touched = this.#touched = grown(touched, 2 * (n + size));
      for (let j = 0; j < size; j++) {
        const p = indices[j] as number;
        const score = weight * (scores[j] as number);
        if (!(score > 0)) continue;
        if (stamp[p] !== generation) {
          stamp[p] = generation;
          best[p] = score;
          touched[n++] = p;
        } else if (score > (best[p] as number)) {
          best[p] = score;
        }
      }
    }
    // In the order first met (ties go to it: deterministic, and no sort of the merge).
    if (this.#values.length < n) this.#values = new Float64Array(2 * n);
    const values = this.#values;
    for (let i = 0; i < n; i++) values[i] = best[touched[i] as number] as number;
    const top = selectTopK(values, k, n, (i) => skip(touched[i] as number));
    for (let r = 0; r < top.indices.length; r++)
      each(touched[top.indices[r] as number] as number, values[top.indices[r] as number] as number);
  }

  /** A new round of stamps: every earlier mark is gone (a full clear only when the counter wraps). */
  #nextGeneration(): number {
    this.#generation = (this.#generation + 1) >>> 0;
    if (this.#generation === 0) {
      this.#stamp.fill(0);
      this.#generation = 1;
    }
    return this.#generation;
  }

  /** `nearInto` as a map (position -> score), best first. */
  near(
    items: readonly { item: number; weight: number }[],
    k: number,
    skip: (position: number) => boolean,
  ): Map<number, number> {
    const out = new Map<number, number>();
    this.nearInto(
      items.map((e) => e.item),
      items.map((e) => e.weight),
      k,
      skip,
      (p, score) => out.set(p, score),
    );
    return out;
  }
}
