import type { ModelStore } from '../../shared/ports/index.ts';

/**
 * Users' recent items as the store keeps them (the latest `limit`, oldest first), mirrored
 * locally for negative sampling. Read once per user after an assignment; in-batch additions are
 * applied locally exactly as the store will apply them, so the exclusion set of every event is
 * the same whether or not the trainer restarted in between.
 */
export class UserHistories {
  readonly #limit: number;
  readonly #lists = new Map<string, string[]>();
  #touched = new Set<string>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  async load(store: ModelStore, userIds: readonly string[]): Promise<void> {
    const missing = [...new Set(userIds)].filter((id) => !this.#lists.has(id));
    if (missing.length === 0) return;
    const lists = await store.getHistories(missing);
    missing.forEach((id, k) => this.#lists.set(id, lists[k] ?? []));
  }

  /** The items to avoid as negatives for a user (its current recent items). */
  excluded(userId: string): ReadonlySet<string> {
    return new Set(this.#lists.get(userId) ?? []);
  }

  add(userId: string, itemId: string): void {
    const list = this.#lists.get(userId) ?? [];
    list.push(itemId);
    if (list.length > this.#limit) list.splice(0, list.length - this.#limit);
    this.#lists.set(userId, list);
    this.#touched.add(userId);
  }

  /** After a failed or fenced batch: the users it touched must be read again. */
  discard(): void {
    for (const id of this.#touched) this.#lists.delete(id);
    this.#touched = new Set();
  }

  committed(): void {
    this.#touched = new Set();
  }

  clear(): void {
    this.#lists.clear();
    this.#touched = new Set();
  }

  get size(): number {
    return this.#lists.size;
  }
}
