/** A catalog record as stored (the schemas' ItemRecord / UserRecord, validated before). */
export type CatalogRecord = Readonly<Record<string, unknown>>;

/**
 * The change stream that catalog writes (putItems, deleteItem) append the item ids to, in the
 * same atomic step: every serving instance follows it to apply catalog changes.
 */
export const CATALOG_STREAM = 'catalog';

/** Catalog: item and user records with their features, written by the API, read by everyone. */
export interface CatalogStore {
  /** Item writes append the ids to CATALOG_STREAM in the same atomic step. */
  putItems(records: readonly { id: string; record: CatalogRecord }[]): Promise<void>;
  getItems(ids: readonly string[]): Promise<(CatalogRecord | undefined)[]>;
  deleteItem(id: string): Promise<boolean>;
  /** All catalog item ids (for building serving's in-memory indexes). */
  listItemIds(): Promise<string[]>;
  putUsers(records: readonly { id: string; record: CatalogRecord }[]): Promise<void>;
  getUsers(ids: readonly string[]): Promise<(CatalogRecord | undefined)[]>;
}
