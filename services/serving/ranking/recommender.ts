import { randomUUID } from 'node:crypto';
import { RecsysError } from '../../../shared/errors/index.ts';
import type { Context, ContextEncoder } from '../../../shared/model/context.ts';
import { sigmoid } from '../../../shared/model/math.ts';
import { selectTopK } from '../../../shared/model/topk.ts';
import { NEUMF_SHARE, SESSION_SHARE, blendRaw, interactionWeight, rankNormalizeInto } from './blend.ts';
import { Stamps } from '../../../shared/model/stamps.ts';
import { CandidateSet } from './candidates.ts';
import { BackgroundPacer } from '../process/pacer.ts';
import type { CandidateQuery, CandidateSource } from './candidate-source.ts';
import { NormalizedSignals } from './signals.ts';
import { similarItems } from './similar-items.ts';
import { ContentSource } from './sources/content-source.ts';
import { MfSource } from './sources/mf-source.ts';
import { PopularLists, PopularSource } from './sources/popular-source.ts';
import { SessionSource } from './sources/session-source.ts';
import { SimilarSource } from './sources/similar-source.ts';
import type { ItemIndex } from '../index/item-index.ts';
import type { NeumfScorer } from './neumf-scorer.ts';
import type { PopularCache, PopularEntry } from '../index/popular-cache.ts';
import type { TransitionIndex } from '../index/transition-index.ts';
import { Ranking, pageOf } from './ranking.ts';
import { rulesOf, type RankedItem, type Recommendation, type RecommendRequest } from './request.ts';
import { ResultCache } from './result-cache.ts';
import type { UserState, UserStateReader } from './user-state.ts';

export type { RankedItem, Recommendation, RecommendRequest } from './request.ts';

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
  /** The session signal's lists (undefined: no session source, trainer.models has no `session`). */
  readonly transitions?: TransitionIndex;
  /** How a session query is formed and weighed (config model.session). */
  readonly session?: { readonly recent: number; readonly recentDecay: number; readonly weight: number };
  /** True while the process is saturated (load-gauge.ts): requests compute no neighbour lists. */
  readonly busy?: () => boolean;
  readonly clock?: () => number;
}

/** A session query's defaults (the offline session model's, item-transitions.ts). */
const SESSION_QUERY = { recent: 10, recentDecay: 0.5, weight: SESSION_SHARE };
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
  /** The candidate sources, in the order they fill the candidate set. */
  readonly #sources: readonly CandidateSource[];
  readonly #popular: PopularLists;
  // Per-request scratch, reused by every request (#rank never awaits, so one request at a time).
  readonly #found = new CandidateSet();
  readonly #marks = new Stamps();
  readonly #blendOut = { score: 0, source: 0 };
  readonly #signals = { mf: 0, neumf: 0, popular: 0, content: 0, session: 0, similar: 0 };
  readonly #normalized = new NormalizedSignals();
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
    // One background for the neighbour lists: together they take at most a fifth of the
    // process's time.
    const background = new BackgroundPacer();
    this.#popular = new PopularLists(options.popular, options.encoder, options.candidates);
    this.#sources = [
      new MfSource(index),
      new PopularSource(index),
      new ContentSource(index, background, this.#clock),
      new SimilarSource(index, background, this.#clock),
      ...(options.transitions === undefined
        ? []
        : [new SessionSource(index, options.transitions, options.session ?? SESSION_QUERY)]),
    ];
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
        items: pageOf(ranking.items, request.offset, request.k),
        modelVersion: ranking.modelVersion,
        resultId: request.resultId,
        fallback: 'none',
      };
    }
    const now = this.#clock();
    const user = await this.#o.users.read(request.userId, request.context, now);
    const popular = await this.#popular.get(request.context, now);
    if (popular.length === 0 && user.degraded) {
      throw new RecsysError('STORE_UNAVAILABLE', {
        message: 'The model store is unavailable and no fallback is cached yet; retry shortly.',
      });
    }
    const ranked = this.#rank(request, user, popular, now);
    const diverse =
      request.maxPerCategory === undefined
        ? ranked
        : ranked.diversified(request.maxPerCategory, (p) => this.#o.index.categories(p));
    const modelVersion = this.modelVersion();
    const resultId = randomUUID();
    this.results.put(resultId, request.userId, diverse, modelVersion, rulesOf(request));
    const fallback = user.degraded ? 'degraded' : user.mfCount === 0 ? 'new_user' : 'none';
    return { items: pageOf(diverse, request.offset, request.k), modelVersion, resultId, fallback };
  }

  /** Popular items for a context (the segment's list, topped up from the global one). */
  async popularItems(context: Context | undefined, k: number): Promise<RankedItem[]> {
    const index = this.#o.index;
    const list = (await this.#popular.get(context, this.#clock())).filter((e) => {
      const p = index.indexOf(e.itemId);
      return p < 0 || index.servable(p);
    });
    const top = list[0]?.score ?? 0;
    return list
      .slice(0, k)
      .map((e) => ({ itemId: e.itemId, score: top > 0 ? e.score / top : 0, source: 'popular' as const }));
  }

  /** Items similar to an item (similar-items.ts). */
  similar(itemId: string, k: number): RankedItem[] {
    return similarItems(this.#o.index, itemId, k, this.#o.blendInteractions);
  }

  /**
   * One ranking, in named steps: the query (exclusions, history, what may be computed), every
   * source's candidates, MF scores for all of them, the signals normalised, blended, the best
   * re-ranked by NeuMF, kept as a Ranking. Nothing here awaits: the reused scratch is this
   * request's.
   */
  #rank(request: RecommendRequest, user: UserState, popular: PopularEntry['items'], now: number): Ranking {
    const query = this.#query(request, user, popular);
    const found = this.#found;
    found.reset(this.#o.index.size);
    for (const source of this.#sources) source.collect(query, found);
    this.#scoreAllByMf(user, found);
    const signals = this.#normalized;
    signals.normalize(found);
    const n = found.size;
    // Learnt features speak for a user without history as `blendInteractions` interactions would:
    // a newcomer whose features others share gets half the weight on the model side (cold start
    // by features), one without features popularity alone.
    const half = this.#o.blendInteractions;
    const wUser = interactionWeight(user.mfCount + user.trainedFeatures * half, half);
    const weights = this.#weights(wUser, found);
    const scores = this.#buffer(5, n);
    const sources = new Uint8Array(n);
    const neumf = this.#buffer(6, n).fill(Number.NaN, 0, n);
    const share = this.#o.neumfShare?.() ?? NEUMF_SHARE;
    const blend = (from?: ArrayLike<number>) =>
      this.#blend(signals, neumf, weights, share, scores, sources, n, from);
    blend();
    const reranked = wUser > 0 ? this.#rerank(request, user, found, scores, share, now, neumf) : undefined;
    if (reranked !== undefined) blend(reranked);
    // Kept in candidate order: the ranking sorts what a page reads (best first, ties by item id).
    const kept = new Float32Array(n);
    for (let c = 0; c < n; c++) kept[c] = scores[c] as number;
    return new Ranking(found.positions.slice(0, n), kept, sources, this.#idAt);
  }

  /** What the sources need of a request: exclusions (and seen items) as a skip test, the history. */
  #query(request: RecommendRequest, user: UserState, popular: PopularEntry['items']): CandidateQuery {
    const { index, candidates: depth } = this.#o;
    // Excluded and (with filterSeen) already seen items, by position: no string keys per check.
    const marks = this.#marks;
    marks.next(index.size);
    for (const id of request.exclude ?? []) {
      const p = index.indexOf(id);
      if (p >= 0) marks.mark(p);
    }
    const history: number[] = [];
    for (const id of user.history) {
      const p = index.indexOf(id);
      if (p < 0) continue;
      history.push(p);
      if (request.filterSeen) marks.mark(p);
    }
    const within = request.category === undefined ? undefined : index.inCategory(request.category);
    const skip = (p: number) =>
      !index.servable(p) || marks.has(p) || (within !== undefined && !within.has(p));
    const lists =
      index.size <= ALL_LISTS_UP_TO && !index.annActive
        ? Number.POSITIVE_INFINITY
        : this.#o.busy?.() === true || index.annActive
          ? 0
          : LISTS_PER_REQUEST;
    return { user, history, skip, within, depth, lists, popular };
  }

  /** Candidates from the other sources get their MF score too, in one SIMD gather. */
  #scoreAllByMf(user: UserState, found: CandidateSet): void {
    if (user.mf === undefined) return;
    const n = found.size;
    const missing = scratch(this.#ints, 0, n, Int32Array);
    let m = 0;
    for (let c = 0; c < n; c++) if (Number.isNaN(found.mf[c] as number)) missing[m++] = c;
    const at = scratch(this.#ints, 1, m, Int32Array);
    for (let j = 0; j < m; j++) at[j] = found.positions[missing[j] as number] as number;
    const scores = this.#buffer(7, m);
    this.#o.index.scoresInto(user.mf, at, m, scores);
    for (let j = 0; j < m; j++) found.mf[missing[j] as number] = scores[j] as number;
  }

  /** Each candidate's weight of the personal side, wUser * wItem. */
  #weights(wUser: number, found: CandidateSet): Float64Array {
    const index = this.#o.index;
    const half = this.#o.blendInteractions;
    const weights = this.#buffer(4, found.size);
    for (let c = 0; c < found.size; c++)
      weights[c] = wUser * itemWeight(index, found.positions[c] as number, half);
    return weights;
  }

  /** Blends candidates `from` (all of the first `n` when absent) into `scores` and `sources`. */
  #blend(
    normalized: NormalizedSignals,
    neumf: Float64Array,
    weights: Float64Array,
    share: number,
    scores: Float64Array,
    sources: Uint8Array,
    n: number,
    from?: ArrayLike<number>,
  ): void {
    const sessionShare = (this.#o.session ?? SESSION_QUERY).weight;
    const signals = this.#signals;
    const out = this.#blendOut;
    const count = from === undefined ? n : from.length;
    for (let i = 0; i < count; i++) {
      const c = from === undefined ? i : (from[i] as number);
      signals.mf = normalized.mf[c] as number;
      signals.neumf = neumf[c] as number;
      signals.popular = normalized.popular[c] as number;
      signals.content = normalized.content[c] as number;
      signals.session = normalized.session[c] as number;
      signals.similar = normalized.similar[c] as number;
      blendRaw(signals, weights[c] as number, share, sessionShare, out);
      scores[c] = out.score;
      sources[c] = out.source;
    }
  }

  /**
   * NeuMF re-ranks the best `rerank` candidates in the request's context (when its tower is
   * published, the user has NeuMF rows, and its live quality allows; the caller checks the user
   * has some model weight):
   * their normalised scores go into `neumf`; returns which candidates it scored.
   */
  #rerank(
    request: RecommendRequest,
    user: UserState,
    found: CandidateSet,
    scores: Float64Array,
    share: number,
    now: number,
    neumf: Float64Array,
  ): Int32Array | undefined {
    const scorer = this.#o.neumf;
    const n = found.size;
    if (scorer?.ready !== true || user.neumf === undefined || n === 0 || share <= 0) return undefined;
    const chosen = selectTopK(scores, this.#o.rerank, n).indices;
    const at = new Int32Array(chosen.length);
    for (let r = 0; r < chosen.length; r++) at[r] = found.positions[chosen[r] as number] as number;
    const logits = scorer.scorePositions(
      user.neumf.gmf,
      user.neumf.mlp,
      scorer.contextVector(request.context, now),
      at,
      this.#idAt,
      new Float32Array(at.length),
    );
    // A loop, not Float64Array.from(logits, sigmoid): that goes through the iterator protocol
    // and boxes every element.
    const probabilities = new Float64Array(logits.length);
    for (let r = 0; r < logits.length; r++) probabilities[r] = sigmoid(logits[r] as number);
    const norm = new Float64Array(chosen.length);
    rankNormalizeInto(probabilities, chosen.length, norm);
    chosen.forEach((c, r) => (neumf[c] = norm[r] as number));
    return chosen;
  }

  /** Reused scratch array number `slot`, at least `n` long (contents: whatever was left). */
  #buffer(slot: number, n: number): Float64Array {
    return scratch(this.#floats, slot, n, Float64Array);
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
