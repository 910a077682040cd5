import type { RecsysConfig } from '../../shared/config/index.ts';
import { pairWithPrevious } from '../../shared/model/item-transitions.ts';
import type { ModelStore, TransitionIncrement, TransitionWrites } from '../../shared/ports/index.ts';
import type { BatchEvent } from './decode.ts';
import { UserHistories } from './user-histories.ts';

/**
 * The session signal in the trainer: each event is paired with the user's previous items by the
 * rule the offline `session` model learns with (pairWithPrevious), and the pair weights go into
 * the batch's write, added to the store's transition lists (ModelStore transitions).
 *
 * The previous items are the user's stored history (the same list the primary model's group
 * writes, in the same commit as these weights) plus the batch's own events, so a replay from the
 * stored offsets pairs every event exactly as the first run did.
 */
export class SessionLearner {
  readonly #config: RecsysConfig['model']['session'];
  readonly #histories: UserHistories;
  /** Pair weights learnt since the last `writes`, by `<item>\0<neighbour>`. */
  #sums = new Map<string, number>();

  constructor(config: RecsysConfig['model']['session']) {
    this.#config = config;
    this.#histories = new UserHistories(config.window);
  }

  /** Reads the stored histories of the users not held yet. */
  async load(store: ModelStore, events: readonly BatchEvent[]): Promise<void> {
    await this.#histories.load(
      store,
      events.map((e) => e.event.userId),
    );
  }

  /** Learns a batch's events, in order (after `load`). */
  observe(events: readonly BatchEvent[]): void {
    for (const e of events) {
      if (!(e.weight > 0)) continue; // as in the history serving reads
      const { userId, itemId } = e.event;
      pairWithPrevious(this.#histories.list(userId), itemId, e.weight, this.#config, (before, w) => {
        this.#add(before, itemId, w);
        this.#add(itemId, before, w);
      });
      this.#histories.add(userId, itemId);
    }
  }

  /** The pair weights learnt since the last call (none: undefined). */
  writes(): TransitionWrites | undefined {
    if (this.#sums.size === 0) return undefined;
    const increments: TransitionIncrement[] = [];
    for (const [key, by] of this.#sums) {
      const cut = key.indexOf('\u0000');
      increments.push({ itemId: key.slice(0, cut), neighborId: key.slice(cut + 1), by });
    }
    this.#sums = new Map();
    return { limit: this.#config.neighbors, increments };
  }

  /** A write went through. */
  committed(): void {
    this.#histories.committed();
  }

  /** After a failed or fenced write, or new partitions: everything is read again. */
  clear(): void {
    this.#histories.clear();
    this.#sums = new Map();
  }

  #add(item: string, neighbor: string, w: number): void {
    const key = `${item}\u0000${neighbor}`;
    this.#sums.set(key, (this.#sums.get(key) ?? 0) + w);
  }
}
