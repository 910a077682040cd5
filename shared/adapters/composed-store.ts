import type {
  CatalogRecord,
  CatalogStore,
  ChangeFeeds,
  CommitBatch,
  CommitResult,
  ItemChanges,
  ModelStore,
  Row,
  RowDelta,
  RowEntry,
  RowStore,
  RowTable,
  RowValue,
  ServingReads,
  SnapshotEntry,
  SnapshotStore,
  TransitionList,
  UserSnapshot,
} from '../ports/index.ts';

/** What an adapter's row part implements: putRows and addDeltas are commits (ComposedModelStore). */
export type RowCommits = Omit<RowStore, 'putRows' | 'addDeltas'>;

/** An adapter's parts, one per part of the port (shared/ports/store/). */
export interface StoreParts {
  readonly rows: RowCommits;
  readonly catalog: CatalogStore;
  readonly feeds: ChangeFeeds;
  readonly reads: ServingReads;
  readonly snapshots: SnapshotStore;
}

/**
 * A ModelStore made of its parts: every method is the part's. Both adapters extend it and add
 * what is theirs (kind, ping, close, persistence).
 */
export abstract class ComposedModelStore implements ModelStore {
  abstract readonly kind: ModelStore['kind'];
  readonly #parts: StoreParts;

  protected constructor(parts: StoreParts) {
    this.#parts = parts;
  }

  abstract ping(): Promise<boolean>;
  abstract close(): Promise<void>;

  getRows(table: RowTable, ids: readonly string[]): Promise<(Row | undefined)[]> {
    return this.#parts.rows.getRows(table, ids);
  }
  async putRows(table: RowTable, rows: readonly RowEntry<RowValue>[]): Promise<void> {
    await this.#parts.rows.commit({ puts: [{ table, rows }] });
  }
  async addDeltas(table: RowTable, deltas: readonly RowEntry<RowDelta>[]): Promise<void> {
    await this.#parts.rows.commit({ deltas: [{ table, rows: deltas }] });
  }
  commit(batch: CommitBatch): Promise<CommitResult> {
    return this.#parts.rows.commit(batch);
  }
  getOffsets(scope: string): Promise<ReadonlyMap<number, number>> {
    return this.#parts.rows.getOffsets(scope);
  }
  getCounters(name: string, fields: readonly string[]): Promise<number[]> {
    return this.#parts.rows.getCounters(name, fields);
  }
  getItemRegistry(registry: string, from: number): Promise<string[]> {
    return this.#parts.rows.getItemRegistry(registry, from);
  }
  evictRows(table: RowTable, olderThan: number): Promise<number> {
    return this.#parts.rows.evictRows(table, olderThan);
  }

  putItems(records: readonly { id: string; record: CatalogRecord }[]): Promise<void> {
    return this.#parts.catalog.putItems(records);
  }
  getItems(ids: readonly string[]): Promise<(CatalogRecord | undefined)[]> {
    return this.#parts.catalog.getItems(ids);
  }
  deleteItem(id: string): Promise<boolean> {
    return this.#parts.catalog.deleteItem(id);
  }
  listItemIds(): Promise<string[]> {
    return this.#parts.catalog.listItemIds();
  }
  putUsers(records: readonly { id: string; record: CatalogRecord }[]): Promise<void> {
    return this.#parts.catalog.putUsers(records);
  }
  getUsers(ids: readonly string[]): Promise<(CatalogRecord | undefined)[]> {
    return this.#parts.catalog.getUsers(ids);
  }

  readItemChanges(stream: string, after: string, count: number): Promise<ItemChanges[]> {
    return this.#parts.feeds.readItemChanges(stream, after, count);
  }

  getUserState(userId: string, tables: readonly RowTable[]): Promise<UserSnapshot> {
    return this.#parts.reads.getUserState(userId, tables);
  }
  getHistories(userIds: readonly string[]): Promise<string[][]> {
    return this.#parts.reads.getHistories(userIds);
  }
  getPopular(segment: string, k: number): Promise<{ itemId: string; score: number }[]> {
    return this.#parts.reads.getPopular(segment, k);
  }
  getTransitions(itemIds: readonly string[]): Promise<(TransitionList | undefined)[]> {
    return this.#parts.reads.getTransitions(itemIds);
  }

  snapshot(tables: readonly RowTable[]): AsyncIterable<SnapshotEntry> {
    return this.#parts.snapshots.snapshot(tables);
  }
  restore(entries: readonly SnapshotEntry[]): Promise<void> {
    return this.#parts.snapshots.restore(entries);
  }
}
