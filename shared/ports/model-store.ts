import type { CatalogStore } from './store/catalog.ts';
import type { ChangeFeeds } from './store/change-feeds.ts';
import type { RowStore } from './store/rows.ts';
import type { ServingReads } from './store/serving-reads.ts';
import type { SnapshotStore } from './store/snapshots.ts';

export * from './store/catalog.ts';
export * from './store/change-feeds.ts';
export * from './store/rows.ts';
export * from './store/serving-reads.ts';
export * from './store/snapshots.ts';

/**
 * The model store (Redis, or the embedded in-memory store), split by what its callers need:
 * rows and the atomic commit (RowStore: the trainer), the catalog (CatalogStore: the API),
 * change feeds (ChangeFeeds: serving's followers), per-request reads (ServingReads) and whole
 * snapshots (SnapshotStore: export and import). A caller takes the narrowest part it uses.
 */
export interface ModelStore extends RowStore, CatalogStore, ChangeFeeds, ServingReads, SnapshotStore {
  readonly kind: 'redis' | 'memory';
  /** True when the store answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Limits the store applies (the same for every adapter). */
export interface ModelStoreLimits {
  /** Items kept per user history. */
  readonly historyLimit: number;
  /** Entries kept in the item change stream (approximately, on Redis). */
  readonly changeStreamLimit: number;
}

export const DEFAULT_STORE_LIMITS: ModelStoreLimits = { historyLimit: 100, changeStreamLimit: 100_000 };
