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
  toJSON(): unknown;
}

const RETRIES = 8;

export class UniformSampler implements NegativeSampler {
  readonly kind = 'uniform' as const;
  readonly #random: Random;
  readonly #history: UserHistory;

  constructor(random: Random, history: UserHistory) {
    this.#random = random;
    this.#history = history;
  }

  observe(): void {}

  sample(user: number, itemCount: number, positive: number): number {
    if (itemCount < 2) return -1;
    let item = -1;
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      item = this.#random.int(itemCount);
      if (item !== positive && !this.#history.has(user, item)) return item;
    }
    return item === positive ? -1 : item;
  }

  toJSON(): unknown {
    return { kind: this.kind };
  }
}

export class PopularitySampler implements NegativeSampler {
  readonly kind = 'popularity' as const;
  readonly #random: Random;
  readonly #history: UserHistory;
  readonly #reservoir: Int32Array;
  #filled = 0;
  #seen = 0;

  constructor(random: Random, history: UserHistory, reservoirSize = 1 << 20) {
    this.#random = random;
    this.#history = history;
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
    let item = -1;
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      // Until enough positives are seen, or one draw in ten, fall back to uniform: every item
      // keeps a chance of being a negative.
      item =
        this.#filled < 100 || this.#random.next() < 0.1
          ? this.#random.int(itemCount)
          : (this.#reservoir[this.#random.int(this.#filled)] as number);
      if (item !== positive && !this.#history.has(user, item)) return item;
    }
    return item === positive ? -1 : item;
  }

  toJSON(): unknown {
    return { kind: this.kind, seen: this.#seen, reservoir: Array.from(this.#reservoir.subarray(0, this.#filled)) };
  }

  restore(data: { seen: number; reservoir: number[] }): void {
    this.#reservoir.set(data.reservoir.slice(0, this.#reservoir.length));
    this.#filled = Math.min(data.reservoir.length, this.#reservoir.length);
    this.#seen = data.seen;
  }
}
