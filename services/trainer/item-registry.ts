import { drawUniform, type Exclusion } from '../../shared/model/negative-sampler.ts';
import { Random, hashString } from '../../shared/model/random.ts';
import type { RowStore } from '../../shared/ports/index.ts';
import type { BatchEvent } from './decode.ts';
import type { RecentItems, UserHistories } from './user-histories.ts';

/**
 * The local mirror of a model's item registry: every item id ever trained on, in the order it was
 * first committed. Negatives are drawn from registry positions, not from local table indices, so
 * a restarted trainer (whose local tables fill in a different order) draws the very same
 * negatives for the same event: a function of (seed, partition, offset, registry, history).
 */
export class ItemRegistry {
  readonly name: string;
  #ids: string[] = [];
  #positions = new Map<string, number>();
  /** Registered in the store (the rest are pending in the current batch). */
  #committed = 0;

  constructor(name: string) {
    this.name = name;
  }

  get size(): number {
    return this.#ids.length;
  }

  idAt(position: number): string {
    return this.#ids[position] as string;
  }

  /** The position of an id (-1: not registered). */
  positionOf(id: string): number {
    return this.#positions.get(id) ?? -1;
  }

  /** Reads what the store has beyond what is known locally (after a start or a failed write). */
  async refresh(store: RowStore): Promise<void> {
    this.rollback();
    const tail = await store.getItemRegistry(this.name, this.#committed);
    for (const id of tail) this.#append(id);
    this.#committed = this.#ids.length;
  }

  /** Registers an id locally if new; returns whether it was new (to be committed). */
  add(id: string): boolean {
    if (this.#positions.has(id)) return false;
    this.#append(id);
    return true;
  }

  /** The ids added since the last commit, in order. */
  pending(): string[] {
    return this.#ids.slice(this.#committed);
  }

  /** The first `upTo` ids are now in the store (default: all known). */
  committed(upTo = this.#ids.length): void {
    this.#committed = Math.max(this.#committed, upTo);
  }

  /** Forgets ids added since the last commit (the batch that added them was not written). */
  rollback(): void {
    for (const id of this.#ids.splice(this.#committed)) this.#positions.delete(id);
  }

  #append(id: string): void {
    if (this.#positions.has(id)) return;
    this.#positions.set(id, this.#ids.length);
    this.#ids.push(id);
  }
}

/** The seeded generator of one event: the same (seed, partition, offset) always draws the same. */
export function eventRandom(seed: number, partition: number, offset: number): Random {
  return new Random(hashString(`${partition}:${offset}`, seed));
}

/**
 * Draws `count` negatives for a user among the first `size` registry positions, avoiding the
 * positive and the user's recent items, by the models' one draw rule (drawUniform). Returns
 * registry positions.
 */
export function drawNegatives(
  random: Random,
  registry: ItemRegistry,
  size: number,
  count: number,
  positive: string,
  excluded: RecentItems,
): number[] {
  const out: number[] = [];
  const recent: Exclusion = { has: (position) => excluded.has(registry.idAt(position)) };
  const at = registry.positionOf(positive);
  for (let n = 0; n < count; n++) {
    const found = drawUniform(random, size, at, recent);
    if (found >= 0) out.push(found);
  }
  return out;
}

/**
 * A batch's negatives, the trainers' one rule: registers each event's item and draws the
 * negatives of every event `learns` accepts, in event order, so each draw sees the registry and
 * the user's history as the store will hold them after the events before it. `seed` is the
 * model's (each model draws its own). Returns the negatives' ids per event ([] for none).
 */
export function batchNegatives(
  events: readonly BatchEvent[],
  registry: ItemRegistry,
  histories: UserHistories,
  count: number,
  seed: number,
  learns: (e: BatchEvent) => boolean,
): string[][] {
  const out: string[][] = [];
  for (const e of events) {
    registry.add(e.event.itemId);
    if (count > 0 && learns(e)) {
      const random = eventRandom(seed, e.partition, e.offset);
      const excluded = histories.excluded(e.event.userId);
      const positions = drawNegatives(random, registry, registry.size, count, e.event.itemId, excluded);
      out.push(positions.map((p) => registry.idAt(p)));
    } else {
      out.push([]);
    }
    if (e.weight > 0) histories.add(e.event.userId, e.event.itemId);
  }
  return out;
}
