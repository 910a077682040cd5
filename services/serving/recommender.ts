import { randomUUID } from 'node:crypto';
import { RecsysError } from '../../shared/errors/index.ts';
import type { Context, ContextEncoder } from '../../shared/model/context.ts';
import { sigmoid } from '../../shared/model/math.ts';
import { blend, interactionWeight, rankNormalize, type Source } from './blend.ts';
import type { ItemIndex } from './item-index.ts';
import type { NcfIndex } from './ncf-index.ts';
import type { PopularCache, PopularEntry } from './popular-cache.ts';
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
  readonly ncf: NcfIndex | undefined;
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
  readonly clock?: () => number;
}

interface Candidate {
  mf?: number;
  popular?: number;
  content?: number;
  session?: number;
  neumf?: number;
}

/** History items used for content candidates, and for the session vector. */
const CONTENT_HISTORY = 20;
const SESSION_HISTORY = 5;

/**
 * The recommendation path: candidates from MF (exact or ANN), popularity for the request's
 * context segment, content similar to the user's history and the session (items near the last
 * few the user touched); NeuMF re-ranks the best with the context; everything is blended by
 * interaction counts (blend.ts); then the rules: exclude, category, hidden, seen, diversity and
 * paging through a stored ranking.
 */
export class Recommender {
  readonly #o: RecommenderOptions;
  readonly #clock: () => number;
  readonly results: ResultCache<RankedItem>;

  constructor(options: RecommenderOptions) {
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
    this.results = new ResultCache(options.resultTtlMs, 10_000, this.#clock);
  }

  modelVersion(): string {
    const ncf = this.#o.ncf;
    return `mf.${this.#o.index.version}` + (ncf?.ready === true ? `-neumf.${ncf.denseVersion}` : '');
  }

  async recommend(request: RecommendRequest): Promise<Recommendation> {
    if (request.resultId !== undefined) {
      const ranking = this.results.get(request.resultId, request.userId);
      if (ranking === undefined) {
        throw new RecsysError('RESULT_EXPIRED', {
          message: `The ranking ${request.resultId} expired or belongs to another user; request page 0 again without resultId.`,
        });
      }
      return { items: ranking.items.slice(request.offset, request.offset + request.k), modelVersion: ranking.modelVersion, resultId: request.resultId, fallback: 'none' };
    }
    const now = this.#clock();
    const user = await this.#o.users.read(request.userId);
    const popular = await this.#popularFor(request.context, now);
    if (popular.length === 0 && user.degraded) {
      throw new RecsysError('STORE_UNAVAILABLE', {
        message: 'The model store is unavailable and no fallback is cached yet; retry shortly.',
      });
    }
    const ranked = this.#rank(request, user, popular, now);
    const diverse = request.maxPerCategory === undefined ? ranked : this.#diversify(ranked, request.maxPerCategory);
    const modelVersion = this.modelVersion();
    const resultId = randomUUID();
    this.results.put(resultId, request.userId, diverse, modelVersion);
    const fallback = user.degraded ? 'degraded' : user.mfCount === 0 ? 'new_user' : 'none';
    return { items: diverse.slice(request.offset, request.offset + request.k), modelVersion, resultId, fallback };
  }

  /** Popular items for a context (the segment's list, topped up from the global one). */
  async popularItems(context: Context | undefined, k: number): Promise<RankedItem[]> {
    const index = this.#o.index;
    const list = (await this.#popularFor(context, this.#clock())).filter((e) => {
      const p = index.indexOf(e.itemId);
      return p < 0 || index.servable(p);
    });
    const top = list[0]?.score ?? 0;
    return list.slice(0, k).map((e) => ({ itemId: e.itemId, score: top > 0 ? e.score / top : 0, source: 'popular' as const }));
  }

  /** Items similar to an item: MF cosine, blended with content similarity by the item's interactions. */
  similar(itemId: string, k: number): RankedItem[] {
    const index = this.#o.index;
    const p = index.indexOf(itemId);
    if (p < 0 || index.deleted(p)) {
      throw new RecsysError('NOT_FOUND', { message: `No item "${itemId}" is known to the catalog or the models.` });
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
    const w = interactionWeight(index.count(p), this.#o.blendInteractions);
    return [...scores]
      .map(([q, s]) => ({
        itemId: index.idAt(q),
        score: w * s.mf + (1 - w) * s.content,
        source: (w * s.mf >= (1 - w) * s.content ? 'mf' : 'content') as Source,
      }))
      .sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1))
      .slice(0, k);
  }

  async #popularFor(context: Context | undefined, now: number): Promise<PopularEntry['items']> {
    const segment = this.#o.encoder.segment(context, now);
    const [own, global] = await Promise.all([this.#o.popular.get(segment), this.#o.popular.get('*')]);
    const items = [...(own?.items ?? [])];
    if (items.length < this.#o.candidates) {
      const seen = new Set(items.map((e) => e.itemId));
      // Global scores continue below the segment's (they are on a different scale).
      const floor = items.at(-1)?.score ?? 0;
      const globalTop = global?.items[0]?.score ?? 1;
      for (const e of global?.items ?? []) {
        if (seen.has(e.itemId)) continue;
        items.push({ itemId: e.itemId, score: own === undefined || items.length === 0 ? e.score : (floor * e.score) / (globalTop * 2) });
        if (items.length >= this.#o.candidates) break;
      }
    }
    return items;
  }

  #rank(request: RecommendRequest, user: UserState, popular: PopularEntry['items'], now: number): RankedItem[] {
    const { index, candidates: depth } = this.#o;
    const exclude = new Set(request.exclude ?? []);
    const seen = request.filterSeen ? new Set(user.history) : new Set<string>();
    const within = request.category === undefined ? undefined : index.inCategory(request.category);
    const skip = (p: number) =>
      !index.servable(p) || (within !== undefined && !within.has(p)) || exclude.has(index.idAt(p)) || seen.has(index.idAt(p));
    const found = new Map<number, Candidate>();
    const at = (p: number): Candidate => {
      let c = found.get(p);
      if (c === undefined) found.set(p, (c = {}));
      return c;
    };
    if (user.mf !== undefined) {
      const top = index.top(user.mf, depth, skip, within);
      top.indices.forEach((p, j) => (at(p).mf = top.scores[j] as number));
    }
    for (const e of popular) {
      const p = index.indexOf(e.itemId);
      if (p >= 0 && !skip(p)) at(p).popular = e.score;
    }
    const history = user.history.map((id) => index.indexOf(id)).filter((p) => p >= 0);
    if (history.length > 0) {
      const recent = history.slice(-CONTENT_HISTORY);
      const content = index.content.similarToItems(
        recent.map((item, j) => ({ item, weight: 0.5 + (0.5 * (j + 1)) / recent.length })),
        depth,
        skip,
      );
      content.indices.forEach((p, j) => (at(p).content = content.scores[j] as number));
      const session = new Float32Array(index.dim);
      const last = history.slice(-SESSION_HISTORY);
      for (const p of last) {
        const v = index.vector(p);
        for (let d = 0; d < index.dim; d++) session[d] = (session[d] as number) + (v[d] as number) / last.length;
      }
      let sessionNorm = 0;
      for (let d = 0; d < index.dim; d++) sessionNorm += (session[d] as number) ** 2;
      sessionNorm = Math.sqrt(sessionNorm);
      const near = index.top(session, Math.ceil(depth / 2), skip, within, false);
      near.indices.forEach((p, j) => {
        // The cosine to the session: how close an item is to what the user just touched.
        const norm = sessionNorm * index.norm(p);
        const cosine = norm === 0 ? 0 : (near.scores[j] as number) / norm;
        if (cosine > 0) at(p).session = Math.min(1, cosine);
      });
    }
    const positions = [...found.keys()];
    const entries = positions.map((p) => found.get(p) as Candidate);
    if (user.mf !== undefined) for (const [j, c] of entries.entries()) c.mf ??= index.score(user.mf, positions[j] as number);
    const mf = rankNormalize(entries.map((c) => c.mf));
    const pop = rankNormalize(entries.map((c) => c.popular));
    const wUser = interactionWeight(user.mfCount, this.#o.blendInteractions);
    const signals = entries.map((c, j) => ({
      ...(c.mf === undefined ? {} : { mf: mf[j] as number }),
      ...(c.popular === undefined ? {} : { popular: pop[j] as number }),
      ...(c.content === undefined ? {} : { content: Math.min(1, Math.max(0, c.content)) }),
      ...(c.session === undefined ? {} : { session: c.session }),
    }));
    const weights = positions.map((p) => wUser * interactionWeight(index.count(p), this.#o.blendInteractions));
    let blended = signals.map((s, j) => blend(s, weights[j] as number));
    const ncf = this.#o.ncf;
    if (ncf?.ready === true && user.ncf !== undefined && wUser > 0 && positions.length > 0) {
      const order = blended.map((b, j) => ({ j, score: b.score })).sort((a, b) => b.score - a.score || a.j - b.j);
      const chosen = order.slice(0, this.#o.rerank).map((e) => e.j);
      const ids = chosen.map((j) => index.idAt(positions[j] as number));
      const logits = ncf.score(user.ncf.gmf, user.ncf.mlp, ncf.contextVector(request.context, now), ids, new Float32Array(ids.length));
      const norm = rankNormalize(Array.from(logits, sigmoid));
      chosen.forEach((j, r) => {
        blended[j] = blend({ ...signals[j], neumf: norm[r] as number }, weights[j] as number);
      });
      blended = [...blended];
    }
    return positions
      .map((p, j) => ({ itemId: index.idAt(p), score: (blended[j] as { score: number }).score, source: (blended[j] as { source: Source }).source }))
      .sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0));
  }

  #diversify(items: readonly RankedItem[], maxPerCategory: number): RankedItem[] {
    const index = this.#o.index;
    const used = new Map<string, number>();
    return items.filter((item) => {
      const categories = index.categories(index.indexOf(item.itemId));
      if (categories.some((c) => (used.get(c) ?? 0) >= maxPerCategory)) return false;
      for (const c of categories) used.set(c, (used.get(c) ?? 0) + 1);
      return true;
    });
  }
}
