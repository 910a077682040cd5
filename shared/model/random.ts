/**
 * Seeded randomness for the models: every draw a test or benchmark depends on comes from here, so
 * a given seed and event order always give the same model.
 */

/** A small, fast, seedable generator (mulberry32). Its state is one 32-bit integer. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = this.next();
    while (u <= Number.EPSILON) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** The state, to save and restore the generator. */
  get state(): number {
    return this.#state;
  }

  set state(value: number) {
    this.#state = value >>> 0;
  }
}

/** FNV-1a hash of a string mixed with a seed: stable across processes and runs. */
export function hashString(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // Final avalanche (murmur3 fmix32) so similar ids give unrelated seeds.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The initial vector of a row, a pure function of (seed, table, id): every process that creates
 * the row creates the same values, which is what lets trainers merge shared rows as deltas.
 */
export function initialVector(
  out: Float32Array,
  seed: number,
  table: string,
  id: string,
  std: number,
): Float32Array {
  const random = new Random(hashString(id, hashString(table, seed)));
  for (let d = 0; d < out.length; d++) out[d] = random.normal() * std;
  return out;
}
