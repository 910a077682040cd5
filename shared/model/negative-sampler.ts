import type { Random } from './random.ts';
import type { UserHistory } from './user-history.ts';

/**
 * Draws items a user has not interacted with, as negatives for implicit feedback.
 * - uniform: every known item equally likely;
 * - popularity: proportional to how often items occurred as positives (a draw from a bounded
 *   reservoir of past positives), which makes negatives harder and corrects popularity bias.
 * Both reject items in the user's recent history (a few retries, then accept).
 */
export interface NegativeSampler {
  readonly kind: 'uniform' | 'popularity';
  /** Records a positive interaction (the popularity sampler learns from it). */
  observe(item: number): void;
  /** A negative item index for `user` among `itemCount` items, or -1 when there is none. */
  sample(user: number, itemCount: number, positive: number): number;
  /** What a checkpoint must keep (nothing for the uniform sampler). */
  toState(): SamplerState;
  restore(state: SamplerState): void;
}

export interface SamplerState {
  readonly kind: 'uniform' | 'popularity';
  readonly seen: number;
  readonly reservoir: Int32Array;
}

const RETRIES = 8;

/** Items a draw avoids (the user's recent items). */
export interface Exclusion {
  has(item: number): boolean;
}

/**
 * One uniform negative among items `[0, size)` (the one draw rule: the models' samplers here and
 * the trainer's registry draws): RETRIES random tries for an item that is neither `positive` nor
 * excluded; then a walk of the catalog from a random start, taking the first such item; if every
 * item but the positive is excluded, the first excluded one met. -1 when there is no other item.
 */
export function drawUniform(random: Random, size: number, positive: number, excluded: Exclusion): number {
  if (size < 2) return -1;
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    const item = random.int(size);
    if (item !== positive && !excluded.has(item)) return item;
  }
  return scanForNegative(random, size, positive, excluded);
}

/**
 * After the random draws failed (a user who interacted with much of a small catalog): walks the
 * catalog from a random start and takes the first item that is not the positive and not
 * excluded; if every item is excluded, any item but the positive. -1 only without one.
 */
function scanForNegative(random: Random, size: number, positive: number, excluded: Exclusion): number {
  const start = random.int(size);
  let fallback = -1;
  for (let k = 0; k < size; k++) {
    const item = (start + k) % size;
    if (item === positive) continue;
    if (!excluded.has(item)) return item;
    if (fallback < 0) fallback = item;
  }
  return fallback;
}

/** A user's history as an Exclusion (one object, re-pointed per draw: no allocation). */
class HistoryExclusion implements Exclusion {
  user = 0;
  readonly #history: UserHistory;

  constructor(history: UserHistory) {
    this.#history = history;
  }

  has(item: number): boolean {
    return this.#history.has(this.user, item);
  }
}

export class UniformSampler implements NegativeSampler {
  readonly kind = 'uniform' as const;
  readonly #random: Random;
  readonly #excluded: HistoryExclusion;

  constructor(random: Random, history: UserHistory) {
    this.#random = random;
    this.#excluded = new HistoryExclusion(history);
  }

  observe(): void {}

  sample(user: number, itemCount: number, positive: number): number {
    this.#excluded.user = user;
    return drawUniform(this.#random, itemCount, positive, this.#excluded);
  }

  toState(): SamplerState {
    return { kind: this.kind, seen: 0, reservoir: new Int32Array(0) };
  }

  restore(): void {}
}

export class PopularitySampler implements NegativeSampler {
  readonly kind = 'popularity' as const;
  readonly #random: Random;
  readonly #history: UserHistory;
  readonly #excluded: HistoryExclusion;
  readonly #reservoir: Int32Array;
  #filled = 0;
  #seen = 0;

  constructor(random: Random, history: UserHistory, reservoirSize = 1 << 20) {
    this.#random = random;
    this.#history = history;
    this.#excluded = new HistoryExclusion(history);
    this.#reservoir = new Int32Array(reservoirSize);
  }

  observe(item: number): void {
    this.#seen++;
    if (this.#filled < this.#reservoir.length) {
      this.#reservoir[this.#filled++] = item;
    } else {
      // Reservoir sampling keeps a uniform sample of all positives seen so far.
      const slot = this.#random.int(this.#seen);
      if (slot < this.#reservoir.length) this.#reservoir[slot] = item;
    }
  }

  sample(user: number, itemCount: number, positive: number): number {
    if (itemCount < 2) return -1;
    let item: number;
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      // Until enough positives are seen, or one draw in ten, fall back to uniform: every item
      // keeps a chance of being a negative.
      item =
        this.#filled < 100 || this.#random.next() < 0.1
          ? this.#random.int(itemCount)
          : (this.#reservoir[this.#random.int(this.#filled)] as number);
      if (item !== positive && !this.#history.has(user, item)) return item;
    }
    this.#excluded.user = user;
    return scanForNegative(this.#random, itemCount, positive, this.#excluded);
  }

  toState(): SamplerState {
    return { kind: this.kind, seen: this.#seen, reservoir: this.#reservoir.slice(0, this.#filled) };
  }

  restore(state: SamplerState): void {
    const n = Math.min(state.reservoir.length, this.#reservoir.length);
    this.#reservoir.set(state.reservoir.subarray(0, n));
    this.#filled = n;
    this.#seen = state.seen;
  }
}
