import { scoreFromRecent } from '../../../../shared/model/item-transitions.ts';
import { Stamps } from '../../../../shared/model/stamps.ts';
import { selectTopK } from '../../../../shared/model/topk.ts';
import type { ItemIndex } from '../../index/item-index.ts';
import type { TransitionIndex } from '../../index/transition-index.ts';
import type { CandidateQuery, CandidateSource } from '../candidate-source.ts';
import type { CandidateSet } from '../candidates.ts';

/** How a session query is formed (config model.session). */
export interface SessionQuery {
  readonly recent: number;
  readonly recentDecay: number;
}

/**
 * The session signal: scoreFromRecent over the latest items of the request's session (the
 * user's items on this device: UserState.session), summed per item, against the transition
 * lists the trainer learnt; the best `depth` not skipped are candidates.
 */
export class SessionSource implements CandidateSource {
  readonly #index: ItemIndex;
  readonly #transitions: TransitionIndex;
  readonly #query: SessionQuery;
  /** Scores by position for one request (a stamp says which are this request's). */
  #scores = new Float64Array(0);
  readonly #marks = new Stamps();

  constructor(index: ItemIndex, transitions: TransitionIndex, query: SessionQuery) {
    this.#index = index;
    this.#transitions = transitions;
    this.#query = query;
  }

  collect({ user, skip, depth }: CandidateQuery, found: CandidateSet): void {
    if (user.session.length === 0) return;
    const index = this.#index;
    // The session's latest items, most recent first.
    const recent: number[] = [];
    for (let j = user.session.length - 1; j >= 0 && recent.length < this.#query.recent; j--) {
      const p = index.indexOf(user.session[j] as string);
      if (p >= 0) recent.push(p);
    }
    const size = index.size;
    if (this.#scores.length < size) this.#scores = new Float64Array(Math.max(1_024, 2 * size));
    const scores = this.#scores;
    const marks = this.#marks;
    marks.next(size);
    const touched: number[] = [];
    scoreFromRecent(this.#transitions, recent, this.#query, (q, score) => {
      if (q >= size || skip(q)) return;
      if (!marks.has(q)) {
        marks.mark(q);
        scores[q] = 0;
        touched.push(q);
      }
      scores[q] = (scores[q] as number) + score;
    });
    if (touched.length === 0) return;
    const values = new Float32Array(touched.length);
    for (let j = 0; j < touched.length; j++) values[j] = scores[touched[j] as number] as number;
    for (const j of selectTopK(values, depth).indices) {
      const q = touched[j] as number;
      found.session[found.at(q)] = scores[q] as number;
    }
  }
}
