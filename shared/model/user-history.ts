/**
 * The most recent items of each user, bounded per user: what negative sampling must avoid and
 * what "already seen" means for a model. A ring of item indices per user; membership is a scan
 * of at most `capacity` integers, which beats a hash set at these sizes.
 */
export class UserHistory {
  readonly capacity: number;
  #rings: (Int32Array | undefined)[] = [];
  #lengths: number[] = [];
  #heads: number[] = [];

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
  }

  add(user: number, item: number): void {
    if (this.has(user, item)) return;
    let ring = this.#rings[user];
    const length = this.#lengths[user] ?? 0;
    if (ring === undefined || (length === ring.length && ring.length < this.capacity)) {
      const grown = new Int32Array(Math.min(this.capacity, Math.max(8, (ring?.length ?? 0) * 2)));
      if (ring !== undefined) grown.set(ring);
      ring = grown;
      this.#rings[user] = ring;
    }
    if (length < ring.length) {
      ring[length] = item;
      this.#lengths[user] = length + 1;
    } else {
      const head = this.#heads[user] ?? 0;
      ring[head] = item;
      this.#heads[user] = (head + 1) % ring.length;
    }
  }

  has(user: number, item: number): boolean {
    const ring = this.#rings[user];
    if (ring === undefined) return false;
    const length = this.#lengths[user] ?? 0;
    for (let k = 0; k < length; k++) if (ring[k] === item) return true;
    return false;
  }

  /** The remembered items of a user (oldest first once the ring wrapped, else insertion order). */
  items(user: number): number[] {
    const ring = this.#rings[user];
    if (ring === undefined) return [];
    const length = this.#lengths[user] ?? 0;
    const head = this.#heads[user] ?? 0;
    const out: number[] = [];
    for (let k = 0; k < length; k++) out.push(ring[(head + k) % length] as number);
    return out;
  }

  size(user: number): number {
    return this.#lengths[user] ?? 0;
  }

  /** Compact state for checkpoints: each user's items (oldest first) concatenated. */
  toState(): { capacity: number; offsets: Int32Array; items: Int32Array } {
    const users = this.#rings.length;
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
