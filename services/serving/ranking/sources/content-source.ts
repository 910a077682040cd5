import type { ItemIndex } from '../../index/item-index.ts';
import type { BackgroundPacer } from '../../process/pacer.ts';
import type { CandidateQuery, CandidateSource } from '../candidate-source.ts';
import type { CandidateSet } from '../candidates.ts';
import { NeighborCache } from '../neighbor-cache.ts';

/** History items a content query starts from. */
const CONTENT_HISTORY = 10;
/** Neighbours kept per item. */
const NEIGHBORS = 50;
/**
 * A changed item is offered to the content lists of this many of its nearest items (its
 * neighbours are, by symmetry, mostly the items whose lists it belongs in).
 */
const CHANGE_DEPTH = 200;
/** Content changes waiting beyond this: every content list is outdated instead (a bulk import). */
const MAX_PENDING_CONTENT_CHANGES = 1_000;
/**
 * Content lists are recomputed after this: a change moves the lists of the changed item's
 * neighbours only, and the IDF weights drift as the catalog grows.
 */
const CONTENT_LIST_TTL_MS = 10 * 60_000;

/**
 * Content: items whose features are like those of the user's recent items (recent ones weigh
 * more), from cached per-item lists that a catalog change updates in the background.
 */
export class ContentSource implements CandidateSource {
  readonly #index: ItemIndex;
  readonly #lists: NeighborCache;
  /** Items whose content changed, waiting to be placed in their neighbours' lists. */
  readonly #changes = new Set<number>();
  /** Places one changed item in the content lists (a background job: true while more wait). */
  readonly #applyChange = (): boolean => {
    for (const p of this.#changes) {
      this.#changes.delete(p);
      this.#lists.changed(p, this.#index.content.similar(p, CHANGE_DEPTH));
      break;
    }
    return this.#changes.size > 0;
  };

  constructor(index: ItemIndex, background: BackgroundPacer, clock: () => number) {
    this.#index = index;
    this.#lists = new NeighborCache({
      compute: (p) => index.content.similar(p, NEIGHBORS),
      size: NEIGHBORS,
      ttlMs: CONTENT_LIST_TTL_MS,
      clock,
      background,
    });
    index.onContentChange((p) => {
      if (this.#lists.size === 0) return; // nothing cached to update (e.g. the first load)
      if (this.#changes.size >= MAX_PENDING_CONTENT_CHANGES) {
        // A bulk change (a catalog import): recomputing lists as they are used is cheaper.
        this.#changes.clear();
        this.#lists.invalidateAll();
        return;
      }
      this.#changes.add(p);
      background.add(this.#applyChange);
    });
  }

  collect({ history, depth, skip, lists }: CandidateQuery, found: CandidateSet): void {
    if (history.length === 0) return;
    const recent = history.slice(-CONTENT_HISTORY);
    const weights = recent.map((_, j) => 0.75 + (0.25 * (j + 1)) / recent.length);
    this.#lists.nearInto(
      recent,
      weights,
      depth,
      skip,
      (p, score) => {
        found.content[found.at(p)] = Math.min(1, score);
      },
      lists,
    );
  }
}
