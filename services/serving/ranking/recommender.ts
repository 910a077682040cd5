import { randomUUID } from 'node:crypto';
import { RecsysError } from '../../../shared/errors/index.ts';
import type { Context, ContextEncoder } from '../../../shared/model/context.ts';
import { sigmoid } from '../../../shared/model/math.ts';
import { selectTopK } from '../../../shared/model/topk.ts';
import { scoreFromRecent } from '../../../shared/model/item-transitions.ts';
import {
  NEUMF_SHARE,
  SESSION_SHARE,
  SOURCES,
  blendRaw,
  interactionWeight,
  rankNormalizeInto,
  type Source,
} from './blend.ts';
import { Stamps } from '../../../shared/model/stamps.ts';
import { CandidateSet } from './candidates.ts';
import { BackgroundPacer } from '../process/pacer.ts';
import { NeighborCache } from './neighbor-cache.ts';
import type { ItemIndex } from '../index/item-index.ts';
import type { NeumfScorer } from './neumf-scorer.ts';
import type { PopularCache, PopularEntry } from '../index/popular-cache.ts';
import type { TransitionIndex } from '../index/transition-index.ts';
import { Ranking } from './ranking.ts';
import { ResultCache } from './result-cache.ts';
import type { UserState, UserStateReader } from './user-state.ts';

export interface RecommendRequest {
  readonly userId: string;
  readonly k: number;
  readonly offset: number;
  readonly context?: Context;
  readonly exclude?: readonly string[];
  readonly category?: string;
  readonly filterSeen: boolean;
  readonly maxPerCategory?: number;
  readonly resultId?: string;
}

export interface RankedItem {
  readonly itemId: string;
  readonly score: number;
  readonly source: Source;
}

export interface Recommendation {
  readonly items: readonly RankedItem[];
  readonly modelVersion: string;
  readonly resultId: string;
  /** Why no model shaped the answer: a user without interactions, or the store could not be read. */
  readonly fallback: 'none' | 'new_user' | 'degraded';
}

export interface RecommenderOptions {
  readonly index: ItemIndex;
  readonly neumf: NeumfScorer | undefined;
  readonly popular: PopularCache;
  readonly users: UserStateReader;
  /** Encodes the popularity segment of a context (the trainer's encoding). */
  readonly encoder: ContextEncoder;
  /** Candidates taken from each source. */
  readonly candidates: number;
  /** Candidates re-ranked by NeuMF. */
  readonly rerank: number;
  /** Interactions at which the model side weighs half. */
  readonly blendInteractions: number;
  readonly resultTtlMs: number;
  /** NeuMF's weight against MF's right now (default NEUMF_SHARE; 0 turns re-ranking off). */
  readonly neumfShare?: () => number;
  /** Events MF has learnt (the version in modelVersion; default: the index's change count). */
  readonly learnt?: () => number;
  /** The session signal's lists (undefined: no session source, model.session.enabled false). */
  readonly transitions?: TransitionIndex;
  /** How a session query is formed and weighed (config model.session). */
  readonly session?: { readonly recent: number; readonly recentDecay: number; readonly weight: number };
  /** True while the process is saturated (load-gauge.ts): requests compute no neighbour lists. */
  readonly busy?: () => boolean;
  readonly clock?: () => number;
}

/** History items used for content candidates, and for `similar` (MF neighbours). */
const CONTENT_HISTORY = 10;
const SIMILAR_HISTORY = 5;
/** A session query's defaults (the offline session model's, item-transitions.ts). */
const SESSION_QUERY = { recent: 10, recentDecay: 0.5, weight: SESSION_SHARE };
/** Neighbours kept per item (content and MF). */
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
 * Missing or outdated neighbour lists a request computes itself, per source (the latest items
 * first); the others are computed in the background (neighbor-cache.ts). Enough for what a
 * user just did to count at once; bounded for a large catalog whose lists are mostly cold.
 * None while the process is saturated (RecommenderOptions.busy), and none while the catalog is
 * searched through the ANN index: there a list costs an HNSW search or a content ranking, each
 * as much as the request's own MF search; the background computes them, and requests use them
 * once ready (a popular item's list nearly always is).
 */
const LISTS_PER_REQUEST = 1;
/**
 * Up to this many items a request computes every list it needs, busy or not (a list is a scan of
 * the catalog: a few microseconds here), so its answer depends on the stored state only, never on what the
 * background happened to have cached: the same list right after a start as a minute later.
 */
export const ALL_LISTS_UP_TO = 5_000;

/**
 * The filters of a request that shape its ranking, as one string: a later page (resultId) must
 * repeat them, or it would silently show the page-0 ranking's filters. The context is not part
 * of it: later pages continue the ranking made for page 0's context.
 */
function rulesOf(request: RecommendRequest): string {
  return JSON.stringify([
    request.category ?? null,
    [...new Set(request.exclude ?? [])].sort(),
    request.filterSeen,
    request.maxPerCategory ?? null,
  ]);
}

/**
 * The recommendation path: candidates from MF (exact or ANN), popularity for the request's
 * context segment, content similar to the user's history, the session signal (what tends to
 * follow the user's latest items, learnt by the trainer) and `similar` (items whose MF vectors
 * are near the last few the user touched); NeuMF re-ranks the best with the context; everything is blended by
 * interaction counts (blend.ts); then the rules: exclude, category, hidden, seen, diversity and
 * paging through a stored ranking.
 */
export class Recommender {
  readonly #o: RecommenderOptions;
  readonly #clock: () => number;
  readonly results: ResultCache<Ranking>;
  readonly #content: NeighborCache;
  /** Items whose content changed, waiting to be placed in their neighbours' lists. */
  readonly #contentChanges = new Set<number>();
  /** Places one changed item in the content lists (a background job: true while more wait). */
  readonly #applyContentChange = (): boolean => {
    const index = this.#o.index;
    for (const p of this.#contentChanges) {
      this.#contentChanges.delete(p);
      this.#content.changed(p, index.content.similar(p, CHANGE_DEPTH));
      break;
    }
    return this.#contentChanges.size > 0;
  };
  readonly #similar: NeighborCache;
  // Per-request scratch, reused by every request (#rank never awaits, so one request at a time).
  readonly #found = new CandidateSet();
  readonly #marks = new Stamps();
  readonly #blendOut = { score: 0, source: 0 };
  readonly #signals = { mf: 0, neumf: 0, popular: 0, content: 0, session: 0, similar: 0 };
  /** Session scores by position for one request (a stamp says which are this request's). */
  #sessionScores = new Float64Array(0);
  readonly #sessionMarks = new Stamps();
  readonly #popularMerged = new Map<
    string,
    { own: PopularEntry | undefined; global: PopularEntry | undefined; items: PopularEntry['items'] }
  >();
  readonly #listPositions = new WeakMap<
    PopularEntry['items'],
    { positions: Int32Array; size: number; complete: boolean }
  >();
  readonly #floats: Float64Array[] = [];
  readonly #ints: Int32Array[] = [];
  /**
   * Item id by position, one function for every ranking: a closure made in #rank would keep that
   * call's whole scope alive for as long as the ranking stays in the result cache.
   */
  readonly #idAt: (position: number) => string;

  constructor(options: RecommenderOptions) {
    this.#o = options;
    this.#idAt = (p) => options.index.idAt(p);
    this.#clock = options.clock ?? Date.now;
    this.results = new ResultCache(options.resultTtlMs, 10_000, this.#clock);
    const index = options.index;
    // One background for both: together they take at most a fifth of the process's time.
    const background = new BackgroundPacer();
    this.#content = new NeighborCache({
      compute: (p) => index.content.similar(p, NEIGHBORS),
      size: NEIGHBORS,
      ttlMs: CONTENT_LIST_TTL_MS,
      clock: this.#clock,
      background,
    });
    // A catalog change updates the lists it touches, in the background (#applyContentChange).
    index.onContentChange((p) => {
      if (this.#content.size === 0) return; // nothing cached to update (e.g. the first load)
      if (this.#contentChanges.size >= MAX_PENDING_CONTENT_CHANGES) {
        // A bulk change (a catalog import): recomputing lists as they are used is cheaper.
        this.#contentChanges.clear();
        this.#content.invalidateAll();
        return;
      }
      this.#contentChanges.add(p);
      background.add(this.#applyContentChange);
    });
    this.#similar = new NeighborCache({
      compute: (p) => index.similar(p, NEIGHBORS, () => false),
      ttlMs: 60_000,
      clock: this.#clock,
      background,
    });
  }

  modelVersion(): string {
    const scorer = this.#o.neumf;
    return (
      `mf.${this.#o.learnt?.() ?? this.#o.index.version}` +
      (scorer?.ready === true ? `-neumf.${scorer.denseVersion}` : '')
    );
  }

  async recommend(request: RecommendRequest): Promise<Recommendation> {
    if (request.resultId !== undefined) {
      const ranking = this.results.get(request.resultId, request.userId);
      if (ranking === undefined) {
        throw new RecsysError('RESULT_EXPIRED', {
          message: `The ranking ${request.resultId} expired or belongs to another user; request page 0 again without resultId.`,
        });
      }
      if (ranking.rules !== rulesOf(request)) {
        throw new RecsysError('RESULT_MISMATCH', {
          message: `The ranking ${request.resultId} was made with other rules (category, exclude, filterSeen, maxPerCategory); send the same ones, or request page 0 again without resultId.`,
        });
      }
      return {
        items: this.#page(ranking.items, request.offset, request.k),
        modelVersion: ranking.modelVersion,
        resultId: request.resultId,
        fallback: 'none',
      };
    }
    const now = this.#clock();
    const user = await this.#o.users.read(request.userId, request.context, now);
    const popular = await this.#popularFor(request.context, now);
    if (popular.length === 0 && user.degraded) {
      throw new RecsysError('STORE_UNAVAILABLE', {
        message: 'The model store is unavailable and no fallback is cached yet; retry shortly.',
      });
    }
    const ranked = this.#rank(request, user, popular, now);
    const diverse =
      request.maxPerCategory === undefined ? ranked : this.#diversify(ranked, request.maxPerCategory);
    const modelVersion = this.modelVersion();
    const resultId = randomUUID();
    this.results.put(resultId, request.userId, diverse, modelVersion, rulesOf(request));
    const fallback = user.degraded ? 'degraded' : user.mfCount === 0 ? 'new_user' : 'none';
    return { items: this.#page(diverse, request.offset, request.k), modelVersion, resultId, fallback };
  }

  /** Popular items for a context (the segment's list, topped up from the global one). */
  async popularItems(context: Context | undefined, k: number): Promise<RankedItem[]> {
    const index = this.#o.index;
    const list = (await this.#popularFor(context, this.#clock())).filter((e) => {
      const p = index.indexOf(e.itemId);
      return p < 0 || index.servable(p);
    });
    const top = list[0]?.score ?? 0;
    return list
      .slice(0, k)
      .map((e) => ({ itemId: e.itemId, score: top > 0 ? e.score / top : 0, source: 'popular' as const }));
  }

  /** Items similar to an item: MF cosine, blended with content similarity by the item's interactions. */
  similar(itemId: string, k: number): RankedItem[] {
    const index = this.#o.index;
    const p = index.indexOf(itemId);
    if (p < 0 || index.deleted(p)) {
      throw new RecsysError('NOT_FOUND', {
        message: `No item "${itemId}" is known to the catalog or the models.`,
      });
    }
    const skip = (q: number) => !index.servable(q);
    const depth = Math.max(k * 3, 50);
    const scores = new Map<number, { mf: number; content: number }>();
    const mf = index.similar(p, depth, skip);
    mf.indices.forEach((q, j) => scores.set(q, { mf: Math.max(0, mf.scores[j] as number), content: 0 }));
    const content = index.content.similar(p, depth, skip);
    content.indices.forEach((q, j) => {
      const entry = scores.get(q) ?? { mf: 0, content: 0 };
      entry.content = content.scores[j] as number;
      scores.set(q, entry);
    });
    // An MF similarity is only as good as the less-trained item of the pair: a new item's MF row
    // is still its initial vector, so between an established item and a new one content speaks
    // (the new item reaches the lists of the items it resembles before anyone clicks it).
    const half = this.#o.blendInteractions;
    const wp = interactionWeight(index.count(p), half);
    return [...scores]
      .map(([q, s]) => {
        const w = Math.min(wp, interactionWeight(index.count(q), half));
        return {
          itemId: index.idAt(q),
          score: w * s.mf + (1 - w) * s.content,
          source: (w * s.mf >= (1 - w) * s.content ? 'mf' : 'content') as Source,
        };
      })
      .sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1))
      .slice(0, k);
  }

  async #popularFor(context: Context | undefined, now: number): Promise<PopularEntry['items']> {
    const segment = this.#o.encoder.segment(context, now);
    const [own, global] = await Promise.all([this.#o.popular.get(segment), this.#o.popular.get('*')]);
    // The merged list is kept until either list is refreshed: requests share it (and the item
    // positions resolved for it, see #positionsOf).
    const memo = this.#popularMerged.get(segment);
    if (memo !== undefined && memo.own === own && memo.global === global) return memo.items;
    const items = this.#mergePopular(own, global);
    this.#popularMerged.delete(segment);
    this.#popularMerged.set(segment, { own, global, items });
    if (this.#popularMerged.size > 1_000) {
      const oldest = this.#popularMerged.keys().next().value;
      if (oldest !== undefined) this.#popularMerged.delete(oldest);
    }
    return items;
  }

  /** Positions of a shared list's items (-1: unknown), resolved once per list and catalog size. */
  #positionsOf(list: PopularEntry['items']): Int32Array {
    const index = this.#o.index;
    const memo = this.#listPositions.get(list);
    if (memo !== undefined && (memo.complete || memo.size === index.size)) return memo.positions;
    const positions = new Int32Array(list.length);
    let complete = true;
    list.forEach((e, j) => {
      const p = index.indexOf(e.itemId);
      positions[j] = p;
      if (p < 0) complete = false;
    });
    this.#listPositions.set(list, { positions, size: index.size, complete });
    return positions;
  }

  #mergePopular(own: PopularEntry | undefined, global: PopularEntry | undefined): PopularEntry['items'] {
    const items = [...(own?.items ?? [])];
    if (items.length < this.#o.candidates) {
      const seen = new Set(items.map((e) => e.itemId));
      // Global scores continue below the segment's, scaled into (0, floor / 2]: the two lists'
      // scores are on different scales. Without a segment list, global scores stand as they are.
      const floor = items.at(-1)?.score;
      const globalTop = global?.items[0]?.score ?? 1;
      for (const e of global?.items ?? []) {
        if (seen.has(e.itemId)) continue;
        items.push({
          itemId: e.itemId,
          score: floor === undefined ? e.score : (floor * e.score) / (globalTop * 2),
        });
        if (items.length >= this.#o.candidates) break;
      }
    }
    return items;
  }

  #rank(request: RecommendRequest, user: UserState, popular: PopularEntry['items'], now: number): Ranking {
    const { index, candidates: depth } = this.#o;
    // Excluded and (with filterSeen) already seen items, by position: no string keys per check.
    const excluded = new Set<number>();
    for (const id of request.exclude ?? []) {
      const p = index.indexOf(id);
      if (p >= 0) excluded.add(p);
    }
    const history: number[] = [];
    for (const id of user.history) {
      const p = index.indexOf(id);
      if (p < 0) continue;
      history.push(p);
      if (request.filterSeen) excluded.add(p);
    }
    const within = request.category === undefined ? undefined : index.inCategory(request.category);
    // Nothing below awaits: the shared scratch (candidates, marks) is this request's.
    const size = index.size;
    const marks = this.#marks;
    marks.next(size);
    for (const p of excluded) marks.mark(p);
    const skip = (p: number) =>
      !index.servable(p) || marks.has(p) || (within !== undefined && !within.has(p));
    const mfTop = user.mf === undefined ? undefined : index.top(user.mf, depth, skip, within);
    const found = this.#found;
    found.reset(size);
    if (mfTop !== undefined)
      for (let j = 0; j < mfTop.indices.length; j++)
        found.mf[found.at(mfTop.indices[j] as number)] = mfTop.scores[j] as number;
    const popularAt = this.#positionsOf(popular);
    for (let j = 0; j < popular.length; j++) {
      const p = popularAt[j] as number;
      if (p >= 0 && !skip(p)) found.popular[found.at(p)] = (popular[j] as { score: number }).score;
    }
    if (history.length > 0) {
      const lists =
        index.size <= ALL_LISTS_UP_TO && !index.annActive
          ? Number.POSITIVE_INFINITY
          : this.#o.busy?.() === true || index.annActive
            ? 0
            : LISTS_PER_REQUEST;
      // Content: items whose features are like those of the recent history (recent weigh more).
      const recent = history.slice(-CONTENT_HISTORY);
      const weights = recent.map((_, j) => 0.75 + (0.25 * (j + 1)) / recent.length);
      this.#content.nearInto(
        recent,
        weights,
        depth,
        skip,
        (p, score) => {
          found.content[found.at(p)] = Math.min(1, score);
        },
        lists,
      );
      // Similar: items whose MF vectors are near the last few the user touched.
      const last = history.slice(-SIMILAR_HISTORY);
      this.#similar.nearInto(
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
    if (user.session.length > 0) {
      // The session's latest items (this device's), most recent first.
      const recent: number[] = [];
      const want = (this.#o.session ?? SESSION_QUERY).recent;
      for (let j = user.session.length - 1; j >= 0 && recent.length < want; j--) {
        const p = index.indexOf(user.session[j] as string);
        if (p >= 0) recent.push(p);
      }
      this.#sessionCandidates(recent, skip, depth);
    }
    const n = found.size;
    const positions = found.positions;
    if (user.mf !== undefined) {
      // Candidates from the other sources get their MF score too, in one SIMD gather.
      const missing = scratch(this.#ints, 0, n, Int32Array);
      let m = 0;
      for (let c = 0; c < n; c++) if (Number.isNaN(found.mf[c] as number)) missing[m++] = c;
      const at = scratch(this.#ints, 1, m, Int32Array);
      for (let j = 0; j < m; j++) at[j] = positions[missing[j] as number] as number;
      const scores = this.#buffer(7, m);
      index.scoresInto(user.mf, at, m, scores);
      for (let j = 0; j < m; j++) found.mf[missing[j] as number] = scores[j] as number;
    }
    // Per-request arrays from reused scratch (nothing awaits in #rank; each is fully written).
    const mf = this.#buffer(0, n);
    const pop = this.#buffer(1, n);
    const content = this.#buffer(2, n);
    rankNormalizeInto(found.mf, n, mf);
    rankNormalizeInto(found.popular, n, pop);
    rankNormalizeInto(found.content, n, content);
    // A signal the candidate lacks stays absent (NaN) for the blend; sessions are clipped cosines.
    const absent = (raw: Float64Array, normalized: Float64Array) => {
      for (let c = 0; c < n; c++) if (Number.isNaN(raw[c] as number)) normalized[c] = Number.NaN;
    };
    absent(found.mf, mf);
    absent(found.popular, pop);
    absent(found.content, content);
    const similar = this.#buffer(3, n);
    for (let c = 0; c < n; c++) {
      const v = found.similar[c] as number;
      similar[c] = Number.isNaN(v) ? Number.NaN : Math.min(1, Math.max(0, v));
    }
    // The session signal over its best candidate; once the request has one, the candidates it
    // knows nothing of score 0 (not absent), as in the offline hybrid.
    const session = this.#buffer(8, n);
    let sessionMax = 0;
    for (let c = 0; c < n; c++) {
      const v = found.session[c] as number;
      if (v > sessionMax) sessionMax = v;
    }
    for (let c = 0; c < n; c++) {
      const v = found.session[c] as number;
      session[c] = sessionMax === 0 ? Number.NaN : Number.isNaN(v) ? 0 : v / sessionMax;
    }
    // Learnt features speak for a user without history as `blendInteractions` interactions would:
    // a newcomer whose features others share gets half the weight on the model side (cold start
    // by features), one without features popularity alone.
    const half = this.#o.blendInteractions;
    const wUser = interactionWeight(user.mfCount + user.trainedFeatures * half, half);
    const weights = this.#buffer(4, n);
    for (let c = 0; c < n; c++) weights[c] = wUser * itemWeight(index, positions[c] as number, half);
    const share = this.#o.neumfShare?.() ?? NEUMF_SHARE;
    const sessionShare = (this.#o.session ?? SESSION_QUERY).weight;
    const signals = this.#signals;
    const scores = this.#buffer(5, n);
    const sources = new Uint8Array(n);
    const out = this.#blendOut;
    const neumf = this.#buffer(6, n).fill(Number.NaN, 0, n);
    const blendAll = (from: ArrayLike<number> | undefined) => {
      const count = from === undefined ? n : from.length;
      for (let i = 0; i < count; i++) {
        const c = from === undefined ? i : (from[i] as number);
        signals.mf = mf[c] as number;
        signals.neumf = neumf[c] as number;
        signals.popular = pop[c] as number;
        signals.content = content[c] as number;
        signals.session = session[c] as number;
        signals.similar = similar[c] as number;
        blendRaw(signals, weights[c] as number, share, sessionShare, out);
        scores[c] = out.score;
        sources[c] = out.source;
      }
    };
    blendAll(undefined);
    const scorer = this.#o.neumf;
    if (scorer?.ready === true && user.neumf !== undefined && wUser > 0 && n > 0 && share > 0) {
      const chosen = selectTopK(scores, this.#o.rerank, n).indices;
      const at = new Int32Array(chosen.length);
      for (let r = 0; r < chosen.length; r++) at[r] = positions[chosen[r] as number] as number;
      const logits = scorer.scorePositions(
        user.neumf.gmf,
        user.neumf.mlp,
        scorer.contextVector(request.context, now),
        at,
        this.#idAt,
        new Float32Array(at.length),
      );
      // A loop, not Float64Array.from(logits, sigmoid): that goes through the iterator protocol
      // and boxes every element (a tenth of all the bytes a request allocated, measured).
      const probabilities = new Float64Array(logits.length);
      for (let r = 0; r < logits.length; r++) probabilities[r] = sigmoid(logits[r] as number);
      const norm = new Float64Array(chosen.length);
      rankNormalizeInto(probabilities, chosen.length, norm);
      chosen.forEach((c, r) => (neumf[c] = norm[r] as number));
      blendAll(chosen);
    }
    // Kept in candidate order: the ranking sorts what a page reads (best first, ties by item id).
    const kept = new Float32Array(n);
    for (let c = 0; c < n; c++) kept[c] = scores[c] as number;
    return new Ranking(positions.slice(0, n), kept, sources, this.#idAt);
  }

  /**
   * The session signal's candidates: scoreFromRecent over the session's latest items (`recent`,
   * most recent first), summed per item; the best `depth` not skipped go into the candidate set.
   */
  #sessionCandidates(recent: readonly number[], skip: (p: number) => boolean, depth: number): void {
    const transitions = this.#o.transitions;
    if (transitions === undefined) return;
    const query = this.#o.session ?? SESSION_QUERY;
    const size = this.#o.index.size;
    if (this.#sessionScores.length < size) this.#sessionScores = new Float64Array(Math.max(1_024, 2 * size));
    const scores = this.#sessionScores;
    const marks = this.#sessionMarks;
    marks.next(size);
    const touched: number[] = [];
    scoreFromRecent(transitions, recent, query, (q, score) => {
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
    const found = this.#found;
    for (const j of selectTopK(values, depth).indices) {
      const q = touched[j] as number;
      found.session[found.at(q)] = scores[q] as number;
    }
  }

  /** Reused scratch array number `slot`, at least `n` long (contents: whatever was left). */
  #buffer(slot: number, n: number): Float64Array {
    return scratch(this.#floats, slot, n, Float64Array);
  }

  /** The items of a ranking from `offset`, at most `k`. */
  #page(ranking: Ranking, offset: number, k: number): RankedItem[] {
    const index = this.#o.index;
    const end = Math.min(ranking.length, offset + k);
    ranking.sortTo(end);
    const out: RankedItem[] = [];
    for (let j = offset; j < end; j++) {
      out.push({
        itemId: index.idAt(ranking.positions[j] as number),
        score: ranking.scores[j] as number,
        source: SOURCES[ranking.sources[j] as number] as Source,
      });
    }
    return out;
  }

  #diversify(ranking: Ranking, maxPerCategory: number): Ranking {
    const index = this.#o.index;
    const used = new Map<string, number>();
    return ranking.filter((p) => {
      const categories = index.categories(p);
      if (categories.some((c) => (used.get(c) ?? 0) >= maxPerCategory)) return false;
      for (const c of categories) used.set(c, (used.get(c) ?? 0) + 1);
      return true;
    });
  }
}

/**
 * How much an item's MF score says, as interactions would: its own, plus `half` when its vector
 * has feature rows. Feature rows are learnt from every item that shares them, so a catalog item
 * nobody touched yet still has a meaningful score; only an item with neither (its vector still
 * the random initial one) is left to the fallback signals. Without the feature term, every
 * untouched catalog item got the fallback at full weight, and the content signal's best (1) put
 * them above the MF ranking of every known user.
 */
function itemWeight(index: ItemIndex, position: number, half: number): number {
  return interactionWeight(index.count(position) + (index.hasFeatureRows(position) ? half : 0), half);
}

/** Array number `slot` of a pool, at least `n` long, grown (doubling) when shorter. */
function scratch<T extends Float64Array | Int32Array>(
  pool: T[],
  slot: number,
  n: number,
  make: new (length: number) => T,
): T {
  let array = pool[slot];
  if (array === undefined || array.length < n) {
    array = new make(Math.max(256, 2 * n));
    pool[slot] = array;
  }
  return array;
}
