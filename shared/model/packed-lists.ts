import { grown } from './stamps.ts';

/**
 * Short weighted lists, one per slot (an item's feature ids and weights), packed into a few
 * growing typed arrays instead of an object and two typed arrays per slot: five heap objects per
 * item, which every full garbage collection of a serving process had to mark (docs/serving.md,
 * "Garbage collection").
 *
 * A list that grows moves to the end of the arrays; the space it leaves is reclaimed when they
 * are full (the live lists are copied into new arrays twice their size). Read a list as
 * `ids[start(slot) + k]` and `weights[start(slot) + k]` for k < length(slot), and read
 * `ids`/`weights` again after a `set` (they may have been replaced).
 */
export class PackedLists {
  #start: Int32Array = new Int32Array(64);
  #length: Int32Array = new Int32Array(64);
  #ids = new Int32Array(256);
  #weights = new Float32Array(256);
  /** Slots ever set (one past the largest). */
  #slots = 0;
  /** Entries in use at the front of ids/weights, of which #garbage are left by moved lists. */
  #used = 0;
  #garbage = 0;

  get slots(): number {
    return this.#slots;
  }

  get ids(): Int32Array {
    return this.#ids;
  }

  get weights(): Float32Array {
    return this.#weights;
  }

  length(slot: number): number {
    return slot < this.#slots ? (this.#length[slot] as number) : 0;
  }

  start(slot: number): number {
    return this.#start[slot] as number;
  }

  /** Where `id` is in the slot's list (0-based), or -1. */
  indexOf(slot: number, id: number): number {
    const start = this.start(slot);
    const length = this.length(slot);
    for (let k = 0; k < length; k++) if (this.#ids[start + k] === id) return k;
    return -1;
  }

  /** Replaces the slot's list (empty: clears it). */
  set(slot: number, ids: ArrayLike<number>, weights: ArrayLike<number>): void {
    if (ids.length !== weights.length) throw new RangeError('ids and weights differ in length');
    if (slot >= this.#start.length) {
      const size = Math.max(2 * this.#start.length, slot + 1);
      this.#start = grown(this.#start, size);
      this.#length = grown(this.#length, size);
    }
    if (slot >= this.#slots) this.#slots = slot + 1;
    const old = this.#length[slot] as number;
    const n = ids.length;
    let at = this.#start[slot] as number;
    if (n > old) {
      if (this.#used + n > this.#ids.length) this.#makeRoom(n);
      at = this.#used;
      this.#used += n;
      this.#garbage += old;
    } else {
      this.#garbage += old - n;
    }
    for (let k = 0; k < n; k++) {
      this.#ids[at + k] = ids[k] as number;
      this.#weights[at + k] = weights[k] as number;
    }
    this.#start[slot] = n === 0 ? 0 : at;
    this.#length[slot] = n;
  }

  /** Room for n more entries at the end: the live lists, in slot order, into arrays twice their size. */
  #makeRoom(n: number): void {
    const size = Math.max(256, 2 * (this.#used - this.#garbage + n));
    const ids = new Int32Array(size);
    const weights = new Float32Array(size);
    if (this.#garbage === 0) {
      // Nothing to reclaim (e.g. items added one after another): one copy, the starts stay.
      ids.set(this.#ids.subarray(0, this.#used));
      weights.set(this.#weights.subarray(0, this.#used));
      this.#ids = ids;
      this.#weights = weights;
      return;
    }
    let used = 0;
    for (let s = 0; s < this.#slots; s++) {
      const length = this.#length[s] as number;
      if (length === 0) continue;
      const from = this.#start[s] as number;
      ids.set(this.#ids.subarray(from, from + length), used);
      weights.set(this.#weights.subarray(from, from + length), used);
      this.#start[s] = used;
      used += length;
    }
    this.#ids = ids;
    this.#weights = weights;
    this.#used = used;
    this.#garbage = 0;
  }
}
