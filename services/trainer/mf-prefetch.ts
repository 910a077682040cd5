import type { CatalogRecord, Row, ServingReads, RowStore, CatalogStore } from '../../shared/ports/index.ts';
import type { Prefetched } from './model-trainer.ts';

/** User-side reads done ahead of a batch's turn (valid while the cache epoch is unchanged). */
export interface UserPrefetch extends Prefetched {
  readonly epoch: number;
  histories?: ReadonlyMap<string, readonly string[]>;
  catalog?: ReadonlyMap<string, CatalogRecord | undefined>;
  rows?: ReadonlyMap<string, Row | undefined>;
  /** User x context rows of the batch's events. */
  crossRows?: ReadonlyMap<string, Row | undefined>;
  /** Rows and catalog records of the batch's (positive) items never read before. */
  itemRows?: ReadonlyMap<string, Row | undefined>;
  itemCatalog?: ReadonlyMap<string, CatalogRecord | undefined>;
}

/** What a batch will read that the cache does not hold, by kind. */
export interface ReadAheadIds {
  readonly histories: readonly string[];
  readonly catalog: readonly string[];
  readonly rows: readonly string[];
  readonly crosses: readonly string[];
  readonly itemRows: readonly string[];
  readonly itemCatalog: readonly string[];
}

/**
 * Starts the reads of `ids` at once, for a batch waiting its turn. A failed read is not an
 * error here: train() reads what is missing again.
 */
export function readAhead(
  store: RowStore & CatalogStore & ServingReads,
  { histories, catalog, rows, crosses, itemRows, itemCatalog }: ReadAheadIds,
  tables: { readonly users: string; readonly items: string; readonly userContexts: string },
  epoch: number,
): UserPrefetch {
  const zip = <T>(keys: readonly string[], values: readonly T[]) =>
    new Map(keys.map((id, k) => [id, values[k] as T]));
  const out: UserPrefetch = {
    epoch,
    // A failed read is not an error here: train() reads what is missing again.
    settled: Promise.all([
      histories.length > 0
        ? store.getHistories(histories).then((v) => (out.histories = zip(histories, v)))
        : 0,
      catalog.length > 0 ? store.getUsers(catalog).then((v) => (out.catalog = zip(catalog, v))) : 0,
      rows.length > 0 ? store.getRows(tables.users, rows).then((v) => (out.rows = zip(rows, v))) : 0,
      crosses.length > 0
        ? store.getRows(tables.userContexts, crosses).then((v) => (out.crossRows = zip(crosses, v)))
        : 0,
      itemRows.length > 0
        ? store.getRows(tables.items, itemRows).then((v) => (out.itemRows = zip(itemRows, v)))
        : 0,
      itemCatalog.length > 0
        ? store.getItems(itemCatalog).then((v) => (out.itemCatalog = zip(itemCatalog, v)))
        : 0,
    ]).then(
      () => undefined,
      () => undefined,
    ),
  };
  return out;
}
