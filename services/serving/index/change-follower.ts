import type { ChangeFeeds } from '../../../shared/ports/index.ts';

/**
 * Follows one of the store's change streams from a position: each poll returns the ids changed
 * since the previous one (deduplicated), reading at most `maxReads` pages so one poll stays short.
 */
export class ChangeFollower {
  readonly stream: string;
  #cursor = '0';
  readonly #pageSize: number;
  readonly #maxReads: number;

  constructor(stream: string, pageSize = 1_000, maxReads = 20) {
    this.stream = stream;
    this.#pageSize = pageSize;
    this.#maxReads = maxReads;
  }

  get cursor(): string {
    return this.#cursor;
  }

  /** Moves to the end of the stream without returning what is there (before a full reload). */
  async skipToEnd(store: ChangeFeeds): Promise<void> {
    for (;;) {
      const page = await store.readItemChanges(this.stream, this.#cursor, 10_000);
      const last = page.at(-1);
      if (last === undefined) return;
      this.#cursor = last.id;
      if (page.length < 10_000) return;
    }
  }

  /** Ids changed since the last poll; `more` is true when the stream had more than one poll reads. */
  async poll(store: ChangeFeeds): Promise<{ ids: string[]; more: boolean }> {
    const ids = new Set<string>();
    for (let read = 0; read < this.#maxReads; read++) {
      const page = await store.readItemChanges(this.stream, this.#cursor, this.#pageSize);
      for (const entry of page) for (const id of entry.items) ids.add(id);
      const last = page.at(-1);
      if (last !== undefined) this.#cursor = last.id;
      if (page.length < this.#pageSize) return { ids: [...ids], more: false };
    }
    return { ids: [...ids], more: true };
  }
}
