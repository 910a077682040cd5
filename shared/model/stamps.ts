/**
 * Per-position marks that start over in O(1): each position holds the generation that last
 * marked it, and a new round is a new generation. For scratch state reused by every request or
 * call (candidate sets, exclusions, merges), which then never clears or allocates per round.
 */
export class Stamps {
  #stamp = new Uint32Array(0);
  #generation = 0;

  /** Starts a round in which positions [0, size) can be marked; every earlier mark is gone. */
  next(size: number): void {
    if (size > this.#stamp.length) this.#stamp = grown(this.#stamp, Math.max(1024, 2 * size));
    this.#generation = (this.#generation + 1) >>> 0;
    if (this.#generation === 0) {
      this.#stamp.fill(0);
      this.#generation = 1;
    }
  }

  /** Marks a position of this round (negative: ignored). */
  mark(position: number): void {
    if (position >= 0) this.#stamp[position] = this.#generation;
  }

  has(position: number): boolean {
    return this.#stamp[position] === this.#generation;
  }

  /** Room for positions up to `position` within the current round. */
  fit(position: number): void {
    if (position >= this.#stamp.length) this.#stamp = grown(this.#stamp, Math.max(1024, 2 * (position + 1)));
  }
}

/** A copy of a typed array at a larger size (the rest zero). */
export function grown<T extends Float64Array | Float32Array | Int32Array | Uint32Array | Uint8Array>(
  values: T,
  size: number,
): T {
  const out = new (values.constructor as new (n: number) => T)(size);
  out.set(values as never);
  return out;
}
