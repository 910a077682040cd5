import { CATALOG_STREAM, type CatalogRecord, type CatalogStore } from '../../ports/index.ts';
import type { MemoryContext } from './context.ts';

/** The catalog in memory: records are cloned on the way in and out, as JSON is on Redis. */
export class MemoryCatalog implements CatalogStore {
  readonly #ctx: MemoryContext;

  constructor(ctx: MemoryContext) {
    this.#ctx = ctx;
  }

  async putItems(records: readonly { id: string; record: CatalogRecord }[]): Promise<void> {
    for (const { id, record } of records) this.#ctx.state.items.set(id, structuredClone(record));
    this.#ctx.dirty = true;
    if (records.length > 0)
      this.#ctx.appendChanges(
        CATALOG_STREAM,
        records.map((r) => r.id),
      );
  }

  async getItems(ids: readonly string[]): Promise<(CatalogRecord | undefined)[]> {
    return ids.map((id) => {
      const record = this.#ctx.state.items.get(id);
      return record === undefined ? undefined : structuredClone(record);
    });
  }

  async deleteItem(id: string): Promise<boolean> {
    const deleted = this.#ctx.state.items.delete(id);
    this.#ctx.dirty ||= deleted;
    if (deleted) this.#ctx.appendChanges(CATALOG_STREAM, [id]);
    return deleted;
  }

  async listItemIds(): Promise<string[]> {
    return [...this.#ctx.state.items.keys()];
  }

  async putUsers(records: readonly { id: string; record: CatalogRecord }[]): Promise<void> {
    for (const { id, record } of records) this.#ctx.state.users.set(id, structuredClone(record));
    this.#ctx.dirty = true;
  }

  async getUsers(ids: readonly string[]): Promise<(CatalogRecord | undefined)[]> {
    return ids.map((id) => {
      const record = this.#ctx.state.users.get(id);
      return record === undefined ? undefined : structuredClone(record);
    });
  }
}
