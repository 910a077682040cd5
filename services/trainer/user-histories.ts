import type { ServingReads } from '../../shared/ports/index.ts';

/**
 * Users' recent items as the store keeps them (the latest `limit`, oldest first), mirrored
 * locally for negative sampling. Read once per user after an assignment; in-batch additions are
 * applied locally exactly as the store will apply them, so the exclusion set of every event is
 * the same whether or not the trainer restarted in between.
 */
/** Membership in a user's recent items (what negative sampling avoids). */
export interface RecentItems {
  has(itemId: string): boolean;
}

/** A user's list and, for membership tests, how often each item occurs in it. */
class History implements RecentItems {
  readonly list: string[];
  readonly #counts = new Map<string, number>();

  constructor(list: string[]) {
    this.list = list;
    for (const id of list) this.#counts.set(id, (this.#counts.get(id) ?? 0) + 1);
  }

  has(itemId: string): boolean {
    return this.#counts.has(itemId);
  }

  push(itemId: string, limit: number): void {
    this.list.push(itemId);
    this.#counts.set(itemId, (this.#counts.get(itemId) ?? 0) + 1);
    while (this.list.length > limit) {
      const gone = this.list.shift() as string;
      const left = (this.#counts.get(gone) as number) - 1;
      if (left === 0) this.#counts.delete(gone);
      else this.#counts.set(gone, left);
    }
  }
}

const NONE: RecentItems = { has: () => false };

export class UserHistories {
  readonly #limit: number;
  readonly #lists = new Map<string, History>();
  #touched = new Set<string>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Reads the histories of users not held yet (`known`: lists read earlier, by a prefetch). */
  async load(
    store: ServingReads,
    userIds: readonly string[],
    known?: ReadonlyMap<string, readonly string[]>,
  ): Promise<void> {
    const missing = this.missing(userIds);
    if (missing.length === 0) return;
    const unknown = known === undefined ? missing : missing.filter((id) => !known.has(id));
    const lists = unknown.length === 0 ? [] : await store.getHistories(unknown);
    unknown.forEach((id, k) => this.#lists.set(id, new History([...(lists[k] ?? [])])));
    if (known !== undefined)
      for (const id of missing)
        if (!this.#lists.has(id)) this.#lists.set(id, new History([...(known.get(id) ?? [])]));
  }

  /** Users whose history is not held (what `load` would read). */
  missing(userIds: Iterable<string>): string[] {
    return [...new Set(userIds)].filter((id) => !this.#lists.has(id));
  }

  /**
   * The items to avoid as negatives for a user (its current recent items): a live view, valid
   * until the next `add` for that user.
   */
  excluded(userId: string): RecentItems {
    return this.#lists.get(userId) ?? NONE;
  }

  /** A user's recent items, oldest first (empty when not held): a live view, valid until the next `add`. */
  list(userId: string): readonly string[] {
    return this.#lists.get(userId)?.list ?? [];
  }

  add(userId: string, itemId: string): void {
    let history = this.#lists.get(userId);
    if (history === undefined) {
      history = new History([]);
      this.#lists.set(userId, history);
    }
    history.push(itemId, this.#limit);
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
