import { WindowedCap } from '../../shared/model/windowed-cap.ts';
import type { BatchEvent } from './decode.ts';

/**
 * The per-user cap on events per minute of event time (trainer.userEventsPerMinute), one per
 * partition. It reads event time, so the same records from the same starting point get the same
 * verdicts: a replay learns exactly what the first run learnt (effectively-once holds).
 */
export class PartitionCaps {
  readonly #limit: number;
  readonly #onCapped: (event: BatchEvent) => void;
  readonly #caps = new Map<number, WindowedCap>();

  /** `limit` 0: no cap. `onCapped` is told of each event left out. */
  constructor(limit: number, onCapped: (event: BatchEvent) => void) {
    this.#limit = limit;
    this.#onCapped = onCapped;
  }

  /** The events under the cap, in log order; the others are reported and not learnt. */
  filter(partition: number, events: readonly BatchEvent[]): readonly BatchEvent[] {
    if (this.#limit === 0) return events;
    let cap = this.#caps.get(partition);
    if (cap === undefined) this.#caps.set(partition, (cap = new WindowedCap(this.#limit)));
    return events.filter((e) => {
      if (cap.take(e.event.userId, e.time)) return true;
      this.#onCapped(e);
      return false;
    });
  }

  /** Forgets every window: the partitions continue from the stored offsets and count afresh. */
  clear(): void {
    this.#caps.clear();
  }
}
