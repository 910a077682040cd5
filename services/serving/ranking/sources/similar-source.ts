import type { ItemIndex } from '../../index/item-index.ts';
import type { BackgroundPacer } from '../../process/pacer.ts';
import type { CandidateQuery, CandidateSource } from '../candidate-source.ts';
import type { CandidateSet } from '../candidates.ts';
import { NeighborCache } from '../neighbor-cache.ts';

/** History items a `similar` query starts from. */
const SIMILAR_HISTORY = 5;
/** Neighbours kept per item. */
const NEIGHBORS = 50;

/** Similar: items whose MF vectors are near the last few the user touched (cosine, cached lists). */
export class SimilarSource implements CandidateSource {
  readonly #lists: NeighborCache;

  constructor(index: ItemIndex, background: BackgroundPacer, clock: () => number) {
    this.#lists = new NeighborCache({
      compute: (p) => index.similar(p, NEIGHBORS, () => false),
      ttlMs: 60_000,
      clock,
      background,
    });
  }

  collect({ history, depth, skip, lists }: CandidateQuery, found: CandidateSet): void {
    if (history.length === 0) return;
    const last = history.slice(-SIMILAR_HISTORY);
    this.#lists.nearInto(
      last,
      new Float64Array(last.length).fill(1),
      Math.ceil(depth / 2),
      skip,
      (p, score) => {
        found.similar[found.at(p)] = Math.min(1, score);
      },
      lists,
    );
  }
}
