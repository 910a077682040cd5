import type {
  CatalogStore,
  RowTable,
  ServingReads,
  TransitionList,
  UserSnapshot,
} from '../../ports/index.ts';
import type { RowCommits } from '../composed-store.ts';
import { transitionListOf } from '../transitions.ts';
import type { MemoryContext } from './context.ts';

/** What serving reads per request, in memory; getUserState is the same as the separate reads. */
export class MemoryServingReads implements ServingReads {
  readonly #ctx: MemoryContext;
  readonly #rows: RowCommits;
  readonly #catalog: CatalogStore;

  constructor(ctx: MemoryContext, rows: RowCommits, catalog: CatalogStore) {
    this.#ctx = ctx;
    this.#rows = rows;
    this.#catalog = catalog;
  }

  async getUserState(userId: string, tables: readonly RowTable[]): Promise<UserSnapshot> {
    const rows = await Promise.all(
      tables.map(async (table) => (await this.#rows.getRows(table, [userId]))[0]),
    );
    const [history] = await this.getHistories([userId]);
    const [record] = await this.#catalog.getUsers([userId]);
    return { rows, history: history ?? [], record };
  }

  async getHistories(userIds: readonly string[]): Promise<string[][]> {
    return userIds.map((id) => [...(this.#ctx.state.histories.get(id) ?? [])]);
  }

  async getPopular(segment: string, k: number): Promise<{ itemId: string; score: number }[]> {
    const scores = this.#ctx.state.popularity.get(segment);
    if (scores === undefined) return [];
    return [...scores]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0))
      .slice(0, k)
      .map(([itemId, score]) => ({ itemId, score }));
  }

  async getTransitions(itemIds: readonly string[]): Promise<(TransitionList | undefined)[]> {
    return itemIds.map((id) => {
      const list = this.#ctx.state.transitions.get(id);
      return list === undefined ? undefined : transitionListOf(list);
    });
  }
}
