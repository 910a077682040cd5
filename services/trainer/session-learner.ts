import type { RecsysConfig } from '../../shared/config/index.ts';
import { ContextEncoder, sessionKey } from '../../shared/model/context.ts';
import { pairWithPrevious } from '../../shared/model/item-transitions.ts';
import type {
  HistoryAppend,
  ServingReads,
  TransitionIncrement,
  TransitionWrites,
} from '../../shared/ports/index.ts';
import type { BatchEvent } from './decode.ts';
import { UserHistories } from './user-histories.ts';

/**
 * The session signal's learning: each event is paired with the previous items of its session by
 * the rule the offline `session` model learns with (pairWithPrevious); the pair weights and the
 * session's new items are what a write adds (ModelStore transitions and history lists).
 *
 * A session is the user's, split by the `model.session.by` context fields (sessionKey: by default
 * the device): a phone's visit and a desktop's are two sessions. Each session's latest items are a
 * list of its own in the store, which only this learner writes, in the same commit as the pair
 * weights and its group's offsets; a replay from the stored offsets finds every list as the commit
 * before left it, so it pairs every event as the first run did.
 */
export class SessionLearner {
  readonly #config: RecsysConfig['model']['session'];
  readonly #encoder: ContextEncoder;
  readonly #lists: UserHistories;
  /** Pair weights learnt since the last `writes`, by `<item>\0<neighbour>`. */
  #sums = new Map<string, number>();
  /** Items appended to sessions' lists since the last `writes`. */
  #appends = new Map<string, string[]>();
  /** Session keys of events seen by `load`, reused by `observe`. */
  #keys = new WeakMap<BatchEvent, string>();

  constructor(config: RecsysConfig['model']['session'], context: RecsysConfig['model']['context']) {
    this.#config = config;
    this.#encoder = new ContextEncoder(context);
    this.#lists = new UserHistories(config.window);
  }

  /** Lists held (sessions read or started). */
  get size(): number {
    return this.#lists.size;
  }

  /** Reads the stored lists of the batch's sessions not held yet. */
  async load(store: ServingReads, events: readonly BatchEvent[]): Promise<void> {
    await this.#lists.load(
      store,
      events.map((e) => this.#keyOf(e)),
    );
  }

  /** Learns a batch's events, in order (after `load`). */
  observe(events: readonly BatchEvent[]): void {
    for (const e of events) {
      if (!(e.weight > 0)) continue; // as in the history serving reads
      const itemId = e.event.itemId;
      const key = this.#keyOf(e);
      pairWithPrevious(this.#lists.list(key), itemId, e.weight, this.#config, (before, w) => {
        this.#add(before, itemId, w);
        this.#add(itemId, before, w);
      });
      this.#lists.add(key, itemId);
      const list = this.#appends.get(key);
      if (list === undefined) this.#appends.set(key, [itemId]);
      else list.push(itemId);
    }
  }

  /** The pair weights and the sessions' new items learnt since the last call. */
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
    this.#lists.committed();
  }

  /** After a failed or fenced write, or new partitions: everything is read again. */
  clear(): void {
    this.#lists.clear();
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
