import type { RecsysConfig } from '../../shared/config/index.ts';
import { ContextEncoder, sessionKey } from '../../shared/model/context.ts';
import { pairWithPrevious } from '../../shared/model/item-transitions.ts';
import type {
  HistoryAppend,
  ModelStore,
  TransitionIncrement,
  TransitionWrites,
} from '../../shared/ports/index.ts';
import type { BatchEvent } from './decode.ts';
import { UserHistories } from './user-histories.ts';

/**
 * The session signal in the trainer: each event is paired with the previous items of its session
 * by the rule the offline `session` model learns with (pairWithPrevious), and the pair weights go
 * into the batch's write, added to the store's transition lists (ModelStore transitions).
 *
 * A session is the user's, split by the `model.session.by` context fields (sessionKey: default
 * the device, `<user>\u001fdevice=mobile`): a phone's visit and a desktop's are two sessions. Its
 * previous items are its stored history plus the batch's own events: the user's history (which
 * the primary group writes in the same commit) when the event has none of those fields, else the
 * session's own list, which this learner appends to in the same commit. A replay from the stored
 * offsets finds every list as the commit before left it, so it pairs every event as the first
 * run did.
 */
export class SessionLearner {
  readonly #config: RecsysConfig['model']['session'];
  readonly #encoder: ContextEncoder;
  readonly #histories: UserHistories;
  /** Pair weights learnt since the last `writes`, by `<item>\0<neighbour>`. */
  #sums = new Map<string, number>();
  /** Items to append to split sessions' lists since the last `writes` (the user's own list is written elsewhere). */
  #appends = new Map<string, string[]>();
  /** Session keys of the events of `load`, reused by `observe`. */
  #keys = new WeakMap<BatchEvent, string>();

  constructor(config: RecsysConfig['model']['session'], context: RecsysConfig['model']['context']) {
    this.#config = config;
    this.#encoder = new ContextEncoder(context);
    this.#histories = new UserHistories(config.window);
  }

  /** Reads the stored lists of the batch's sessions not held yet. */
  async load(store: ModelStore, events: readonly BatchEvent[]): Promise<void> {
    // The user's own list too, always: it takes every event of the user (the primary group
    // writes them all), so it must be held from the user's first event on, or a later read
    // could miss events whose write is still in flight.
    await this.#histories.load(
      store,
      events.flatMap((e) => [e.event.userId, this.#keyOf(e)]),
    );
  }

  /** Learns a batch's events, in order (after `load`). */
  observe(events: readonly BatchEvent[]): void {
    for (const e of events) {
      if (!(e.weight > 0)) continue; // as in the history serving reads
      const { userId, itemId } = e.event;
      const key = this.#keyOf(e);
      pairWithPrevious(this.#histories.list(key), itemId, e.weight, this.#config, (before, w) => {
        this.#add(before, itemId, w);
        this.#add(itemId, before, w);
      });
      this.#histories.add(key, itemId);
      if (key !== userId) {
        // The user's own list takes every event too (as the primary group's history write does).
        this.#histories.add(userId, itemId);
        const list = this.#appends.get(key);
        if (list === undefined) this.#appends.set(key, [itemId]);
        else list.push(itemId);
      }
    }
  }

  /** The pair weights and split sessions' items learnt since the last call. */
  writes(): { transitions?: TransitionWrites; history: HistoryAppend[] } {
    const increments: TransitionIncrement[] = [];
    for (const [key, by] of this.#sums) {
      const cut = key.indexOf('\u0000');
      increments.push({ itemId: key.slice(0, cut), neighborId: key.slice(cut + 1), by });
    }
    const history = [...this.#appends].map(([userId, items]) => ({ userId, items }));
    this.#sums = new Map();
    this.#appends = new Map();
    return {
      ...(increments.length === 0 ? {} : { transitions: { limit: this.#config.neighbors, increments } }),
      history,
    };
  }

  /** A write went through. */
  committed(): void {
    this.#histories.committed();
  }

  /** After a failed or fenced write, or new partitions: everything is read again. */
  clear(): void {
    this.#histories.clear();
    this.#sums = new Map();
    this.#appends = new Map();
  }

  #keyOf(e: BatchEvent): string {
    let key = this.#keys.get(e);
    if (key === undefined) {
      key = sessionKey(this.#encoder, e.event.context, e.time, e.event.userId, this.#config.by);
      this.#keys.set(e, key);
    }
    return key;
  }

  #add(item: string, neighbor: string, w: number): void {
    const key = `${item}\u0000${neighbor}`;
    this.#sums.set(key, (this.#sums.get(key) ?? 0) + w);
  }
}
