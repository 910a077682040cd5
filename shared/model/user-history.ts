/**
 * The most recent items of each user, bounded per user: what negative sampling must avoid and
 * what "already seen" means for a model. A ring of item indices per user; membership is a scan
 * of at most `capacity` integers.
 *
 * Layout, for speed: every ring lives in one of two flat pools (small rings of SMALL items, full
 * rings of `capacity`), addressed by a per-user offset. A lookup then costs one cache miss (the
 * ring's own cache lines, read in order) instead of a chain of per-user objects, which is what
 * dominated the MF update loop (~150 ns per lookup). A user's ring starts small and moves to the
 * full pool when it outgrows it; freed small rings are reused.
 */
const SMALL = 16;

export class UserHistory {
  readonly capacity: number;
  /** Per user: ring offset + 1 in the small pool (> 0) or -(offset + 1) in the full pool (< 0); 0: none. */
  #where: Int32Array<ArrayBuffer> = new Int32Array(0);
  #lengths: Int32Array<ArrayBuffer> = new Int32Array(0);
  #heads: Int32Array<ArrayBuffer> = new Int32Array(0);
  #users = 0;
  readonly #small: RingPool;
  readonly #full: RingPool;

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
    this.#small = new RingPool(Math.min(SMALL, this.capacity));
    this.#full = new RingPool(this.capacity);
  }

  add(user: number, item: number): void {
    if (this.has(user, item)) return;
    this.#reserve(user);
    let where = this.#where[user] as number;
    const length = this.#lengths[user] as number;
    if (where === 0) {
      where = this.#small.size < this.capacity ? this.#small.take() + 1 : -(this.#full.take() + 1);
      this.#where[user] = where;
    } else if (where > 0 && length === this.#small.size && this.#small.size < this.capacity) {
      // Outgrew the small ring (never wrapped: a small ring below capacity only fills).
      const from = where - 1;
      const to = this.#full.take();
      this.#full.data.set(this.#small.data.subarray(from, from + length), to);
      this.#small.free(from);
      where = -(to + 1);
      this.#where[user] = where;
    }
    const pool = where > 0 ? this.#small : this.#full;
    const offset = where > 0 ? where - 1 : -where - 1;
    if (length < pool.size) {
      pool.data[offset + length] = item;
      this.#lengths[user] = length + 1;
    } else {
      const head = this.#heads[user] as number;
      pool.data[offset + head] = item;
      this.#heads[user] = (head + 1) % pool.size;
    }
  }

  has(user: number, item: number): boolean {
    if (user >= this.#users) return false;
    const where = this.#where[user] as number;
    if (where === 0) return false;
    const data = where > 0 ? this.#small.data : this.#full.data;
    const offset = where > 0 ? where - 1 : -where - 1;
    const end = offset + (this.#lengths[user] as number);
    for (let k = offset; k < end; k++) if (data[k] === item) return true;
    return false;
  }

  /** The remembered items of a user (oldest first once the ring wrapped, else insertion order). */
  items(user: number): number[] {
    if (user >= this.#users) return [];
    const where = this.#where[user] as number;
    if (where === 0) return [];
    const data = where > 0 ? this.#small.data : this.#full.data;
    const offset = where > 0 ? where - 1 : -where - 1;
    const length = this.#lengths[user] as number;
    const head = this.#heads[user] as number;
    const out: number[] = [];
    for (let k = 0; k < length; k++) out.push(data[offset + ((head + k) % length)] as number);
    return out;
  }

  size(user: number): number {
    return user < this.#users ? (this.#lengths[user] as number) : 0;
  }

  /** Makes room for `user` in the per-user arrays. */
  #reserve(user: number): void {
    if (user >= this.#where.length) {
      const size = Math.max(64, 2 * this.#where.length, user + 1);
      this.#where = grow(this.#where, size);
      this.#lengths = grow(this.#lengths, size);
      this.#heads = grow(this.#heads, size);
    }
    if (user >= this.#users) this.#users = user + 1;
  }

  /** Compact state for checkpoints: each user's items (oldest first) concatenated. */
  toState(): { capacity: number; offsets: Int32Array; items: Int32Array } {
    const users = this.#users;
    const offsets = new Int32Array(users + 1);
    const all: number[] = [];
    for (let user = 0; user < users; user++) {
      all.push(...this.items(user));
      offsets[user + 1] = all.length;
    }
    return { capacity: this.capacity, offsets, items: Int32Array.from(all) };
  }

  static fromState(state: { capacity: number; offsets: Int32Array; items: Int32Array }): UserHistory {
    const history = new UserHistory(state.capacity);
    for (let user = 0; user + 1 < state.offsets.length; user++) {
      for (let k = state.offsets[user] as number; k < (state.offsets[user + 1] as number); k++)
        history.add(user, state.items[k] as number);
    }
    return history;
  }
}

/** Fixed-size rings in one flat, growable array, with a free list. */
class RingPool {
  readonly size: number;
  data = new Int32Array(0);
  #used = 0;
  #free: number[] = [];

  constructor(size: number) {
    this.size = size;
  }

  /** The offset of a ring to use. */
  take(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    const offset = this.#used;
    this.#used += this.size;
    if (this.#used > this.data.length)
      this.data = grow(this.data, Math.max(1024, 2 * this.data.length, this.#used));
    return offset;
  }

  free(offset: number): void {
    this.#free.push(offset);
  }
}

function grow(values: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(size);
  out.set(values);
  return out;
}
