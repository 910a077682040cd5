/**
 * A per-key cap on events per fixed time window (e.g. 600 a minute per user), in fixed memory: a
 * count-min sketch of the current window (Cormode and Muthukrishnan 2005) with conservative
 * update. Counts are never forgotten within a window, whatever the number of keys (a map of
 * windows had to be cleared once it grew, which let anyone reset every key's count by sending
 * events under enough distinct keys); the price is that a count can read high when keys share
 * every cell, by about e * N / width events on average for N events in the window (at the default
 * width, ~40 at a million events a minute), so a key may be capped slightly early, never late.
 *
 * Time is whatever the caller passes: the wall clock at the HTTP door, an event's own timestamp in
 * the trainer (so replaying a partition from the same point makes the same decisions).
 */
export class WindowedCap {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #width: number;
  readonly #depth: number;
  readonly #cells: Uint32Array;
  #window = Number.NEGATIVE_INFINITY;

  constructor(limit: number, options: { windowMs?: number; width?: number; depth?: number } = {}) {
    this.#limit = limit;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#width = options.width ?? 1 << 16;
    this.#depth = options.depth ?? 4;
    this.#cells = new Uint32Array(this.#width * this.#depth);
  }

  /**
   * Counts one event of `key` at time `at` (ms); false when the key already reached the limit in
   * this window (the event is then not counted). An event older than the current window counts
   * in the current one: the windows never go back.
   */
  take(key: string, at: number): boolean {
    this.#advance(at);
    const cells = this.#cells;
    const [h1, h2] = hashes(key);
    let least = Number.POSITIVE_INFINITY;
    for (let row = 0; row < this.#depth; row++) {
      const value = cells[this.#cell(row, h1, h2)] as number;
      if (value < least) least = value;
    }
    if (least >= this.#limit) return false;
    // Conservative update: only the cells at the minimum grow (tighter estimates, same guarantee).
    for (let row = 0; row < this.#depth; row++) {
      const c = this.#cell(row, h1, h2);
      if (cells[c] === least) cells[c] = least + 1;
    }
    return true;
  }

  /** Seconds until the window that holds `at` ends (at least 1). */
  retryAfterSeconds(at: number): number {
    const end = (Math.floor(at / this.#windowMs) + 1) * this.#windowMs;
    return Math.max(1, Math.ceil((end - at) / 1000));
  }

  /** Forgets every count (e.g. when the events counted are going to be read again). */
  reset(): void {
    this.#cells.fill(0);
  }

  #advance(at: number): void {
    const window = Math.floor(at / this.#windowMs);
    if (window <= this.#window) return;
    this.#window = window;
    this.#cells.fill(0);
  }

  #cell(row: number, h1: number, h2: number): number {
    // Kirsch-Mitzenmacher: row i uses h1 + i * h2, as good as independent hashes for a sketch.
    return row * this.#width + (((h1 + Math.imul(row, h2)) >>> 0) % this.#width);
  }
}

/** Two 32-bit FNV-1a hashes of the key's UTF-16 code units (different offset bases). */
function hashes(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193);
  }
  return [a >>> 0, (b >>> 0) | 1];
}
