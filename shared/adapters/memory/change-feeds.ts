import type { ChangeFeeds, ItemChanges } from '../../ports/index.ts';
import type { MemoryContext } from './context.ts';

/** Change feeds in memory: entries numbered `<sequence>-0`, like Redis stream ids. */
export class MemoryChangeFeeds implements ChangeFeeds {
  readonly #ctx: MemoryContext;

  constructor(ctx: MemoryContext) {
    this.#ctx = ctx;
  }

  async readItemChanges(stream: string, after: string, count: number): Promise<ItemChanges[]> {
    const afterSequence = Number(after.split('-')[0] ?? 0);
    const entries = this.#ctx.state.streams.get(stream)?.entries ?? [];
    // Entries are in sequence order: the first one after `after` by binary search.
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Number((entries[mid] as { id: string }).id.split('-')[0]) > afterSequence) hi = mid;
      else lo = mid + 1;
    }
    return entries.slice(lo, lo + count);
  }
}
