/**
 * Rankings kept for paging: a page with a resultId continues the same ranking, so no item appears
 * twice across the pages of one result, even when the models changed in between. Bounded in
 * entries and time; a ranking is only given back to the user it was made for. Kept per serving
 * instance: behind a load balancer, route a user's pages to the same instance (or page from 0).
 */
export class ResultCache<T> {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #clock: () => number;
  readonly #entries = new Map<
    string,
    { userId: string; items: T; modelVersion: string; rules: string; expiresAt: number }
  >();

  constructor(ttlMs: number, max: number, clock: () => number = Date.now) {
    this.#ttlMs = ttlMs;
    this.#max = max;
    this.#clock = clock;
  }

  /** `rules`: the request's filters as one string, which later pages must repeat. */
  put(id: string, userId: string, items: T, modelVersion: string, rules = ''): void {
    this.#entries.set(id, { userId, items, modelVersion, rules, expiresAt: this.#clock() + this.#ttlMs });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  get(id: string, userId: string): { items: T; modelVersion: string; rules: string } | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#clock()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.userId === userId ? entry : undefined;
  }

  get size(): number {
    return this.#entries.size;
  }
}
