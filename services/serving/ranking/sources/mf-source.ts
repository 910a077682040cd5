import type { ItemIndex } from '../../index/item-index.ts';
import type { CandidateQuery, CandidateSource } from '../candidate-source.ts';
import type { CandidateSet } from '../candidates.ts';

/** MF: the best items for the user's query vector (an exact SIMD scan, or the ANN index). */
export class MfSource implements CandidateSource {
  readonly #index: ItemIndex;

  constructor(index: ItemIndex) {
    this.#index = index;
  }

  collect({ user, depth, skip, within }: CandidateQuery, found: CandidateSet): void {
    if (user.mf === undefined) return;
    const top = this.#index.top(user.mf, depth, skip, within);
    for (let j = 0; j < top.indices.length; j++)
      found.mf[found.at(top.indices[j] as number)] = top.scores[j] as number;
  }
}
