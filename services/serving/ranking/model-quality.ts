import { QUALITY_COUNTER, qualityFields } from '../../../shared/model/quality.ts';
import type { RowStore } from '../../../shared/ports/index.ts';
import { NEUMF_SHARE } from './blend.ts';

/** Sampled events a hit rate needs before it counts. */
export const MIN_TRIALS = 200;

interface Snapshot {
  readonly at: number;
  readonly mf: { readonly trials: number; readonly hits: number };
  readonly neumf: { readonly trials: number; readonly hits: number };
}

/**
 * The models' live prequential HR@10, from the counters the trainers commit with every batch,
 * over a sliding window (cumulative until the window holds enough trials). Serving uses it to
 * decide how much NeuMF re-ranks: a model that is behind does not get to override a better one.
 */
export class ModelQuality {
  readonly #windowMs: number;
  #snapshots: Snapshot[] = [];

  constructor(windowMs = 120_000) {
    this.#windowMs = windowMs;
  }

  /** Reads the counters from the store (errors propagate; the caller keeps the last estimate). */
  async poll(store: RowStore, now: number): Promise<void> {
    const mf = qualityFields('mf');
    const neumf = qualityFields('neumf');
    const [mfTrials = 0, mfHits = 0, nTrials = 0, nHits = 0] = await store.getCounters(QUALITY_COUNTER, [
      mf.trials,
      mf.hits,
      neumf.trials,
      neumf.hits,
    ]);
    this.add({
      at: now,
      mf: { trials: mfTrials, hits: mfHits },
      neumf: { trials: nTrials, hits: nHits },
    });
  }

  add(snapshot: Snapshot): void {
    this.#snapshots.push(snapshot);
    // Keep one snapshot older than the window as its baseline.
    while (this.#snapshots.length > 2 && (this.#snapshots[1] as Snapshot).at <= snapshot.at - this.#windowMs)
      this.#snapshots.shift();
  }

  /** HR@10 of a model over the window (or since the start), undefined below MIN_TRIALS. */
  hitRate(model: 'mf' | 'neumf'): number | undefined {
    const last = this.#snapshots.at(-1);
    if (last === undefined) return undefined;
    const first = this.#snapshots[0] as Snapshot;
    const trials = last[model].trials - first[model].trials;
    if (trials >= MIN_TRIALS) return (last[model].hits - first[model].hits) / trials;
    return last[model].trials >= MIN_TRIALS ? last[model].hits / last[model].trials : undefined;
  }

  /** How much NeuMF weighs against MF in the model score (see neumfShare). */
  neumfShare(): number {
    return neumfShare(this.hitRate('mf'), this.hitRate('neumf'));
  }
}

/**
 * NeuMF's weight relative to MF's: NEUMF_SHARE (it sees the context and is the more expressive
 * model) while its live HR@10 is at least MF's, falling linearly to 0 when it is at 80% of MF's
 * or below (early in training, online NeuMF learns more slowly than MF and would only add
 * noise). Unknown rates (too few trials) leave the default.
 */
export function neumfShare(mf: number | undefined, neumf: number | undefined): number {
  if (mf === undefined || neumf === undefined || mf <= 0) return NEUMF_SHARE;
  const ratio = neumf / mf;
  return NEUMF_SHARE * Math.min(1, Math.max(0, 5 * ratio - 4)); // (ratio - 0.8) / 0.2
}
