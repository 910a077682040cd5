import type { PopularEntry } from '../index/popular-cache.ts';
import type { CandidateSet } from './candidates.ts';
import type { UserState } from './user-state.ts';

/** What every candidate source sees of one request (built once per request by the recommender). */
export interface CandidateQuery {
  readonly user: UserState;
  /** Index positions of the user's recent items, oldest first (unknown items left out). */
  readonly history: readonly number[];
  /** Positions a source must not propose: excluded, seen (with filterSeen), hidden, off-category. */
  readonly skip: (position: number) => boolean;
  /** The request's category, as positions (undefined: any). */
  readonly within: ReadonlySet<number> | undefined;
  /** Candidates each source proposes at most. */
  readonly depth: number;
  /**
   * Missing or outdated neighbour lists a source may compute on the request path (the others
   * are computed in the background): unbounded for a small catalog, few or none for a large one.
   */
  readonly lists: number;
  /** The popular list of the request's context (read before ranking: it may need the store). */
  readonly popular: PopularEntry['items'];
}

/**
 * One source of candidates (a file each under sources/): it proposes items into the request's
 * candidate set with its raw signal (MF scores, popularity, content or MF cosines, session
 * scores); the recommender then scores every candidate on every signal and blends them.
 */
export interface CandidateSource {
  collect(query: CandidateQuery, found: CandidateSet): void;
}
