import { relativeToTop } from '../../../shared/model/popularity.ts';
import type { ServingReads } from '../../../shared/ports/index.ts';
import type { StoreGuard } from '../process/store-guard.ts';

export interface PopularEntry {
  readonly items: readonly { readonly itemId: string; readonly score: number }[];
  readonly fetchedAt: number;
}

export interface PopularCacheOptions {
  readonly store: ServingReads;
  readonly guard: StoreGuard;
  /** Items kept per segment (the most any request needs). */
  readonly depth: number;
  /** Entries older than this are refreshed in the background (the stale entry is still served). */
  readonly ttlMs: number;
  /** Segments kept (device values are client-chosen: the cache must stay bounded). */
  readonly maxSegments?: number;
  readonly clock?: () => number;
}

/**
 * Popular items per context segment, cached in memory: a request reads the cache and never waits
 * for a refresh once a segment was loaded, and when the store is down the last known lists keep
 * being served (the fallback of last resort).
 */
export class PopularCache {
  readonly #options: PopularCacheOptions;
  readonly #clock: () => number;
  readonly #entries = new Map<string, PopularEntry>();
  readonly #inflight = new Map<string, Promise<PopularEntry | undefined>>();

  constructor(options: PopularCacheOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
  }

  /** The cached list of a segment (maybe stale; a refresh is started when it is), or undefined. */
  peek(segment: string): PopularEntry | undefined {
    const entry = this.#entries.get(segment);
    if (entry === undefined || this.#clock() - entry.fetchedAt >= this.#options.ttlMs) {
      void this.#refresh(segment);
    }
    return entry;
  }

  /** The segment's list: from the cache, or read now (bounded by the store guard) when absent. */
  async get(segment: string): Promise<PopularEntry | undefined> {
    return this.peek(segment) ?? (await this.#refresh(segment));
  }

  /** Number of cached segments. */
  get size(): number {
    return this.#entries.size;
  }

  #refresh(segment: string): Promise<PopularEntry | undefined> {
    const running = this.#inflight.get(segment);
    if (running !== undefined) return running;
    if (!this.#options.guard.available) return Promise.resolve(this.#entries.get(segment));
    const task = this.#options.guard
      .call('getPopular', () => this.#options.store.getPopular(segment, this.#options.depth))
      .then(
        (items) => {
          // Stored in the log domain; requests blend and show values relative to the top.
          const entry = { items: relativeToTop(items), fetchedAt: this.#clock() };
          this.#entries.delete(segment);
          this.#entries.set(segment, entry);
          const max = this.#options.maxSegments ?? 1_000;
          if (this.#entries.size > max) {
            const oldest = this.#entries.keys().next().value;
            if (oldest !== undefined) this.#entries.delete(oldest);
          }
          return entry;
        },
        () => this.#entries.get(segment),
      )
      .finally(() => this.#inflight.delete(segment));
    this.#inflight.set(segment, task);
    return task;
  }
}
