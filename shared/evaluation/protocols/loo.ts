import { rankAmong } from '../../model/rank.ts';
import { Random } from '../../model/random.ts';
import { Mean, hitRate, ndcgSingle, reciprocalRank } from '../metrics.ts';
import { compareInTime, type MovieLens, type Rating } from '../movielens.ts';
import type { EvalModel, EvalResult, ProgressListener } from '../model.ts';
import { byUser, train, type TrainOptions } from './common.ts';

export interface LooOptions extends TrainOptions {
  /** Sampled negatives ranked with each held-out item (99 in the NCF paper). */
  readonly negatives: number;
  readonly k: number;
}

/**
 * Leave-one-out, the NCF paper's protocol (He et al. 2017): each user's latest interaction is
 * held out and ranked against `negatives` sampled items the user never interacted with (seeded,
 * distinct, never the positive); HR@k and NDCG@k. Ties with negatives are broken at random
 * (seeded), so a model that scores everything alike gets the expected value of random ranking.
 */
export function runLeaveOneOut(
  data: MovieLens,
  model: EvalModel,
  options: LooOptions,
  onProgress?: ProgressListener,
): EvalResult {
  const users = byUser(data.ratings, data.users.length);
  const trainSet: Rating[] = [];
  const heldOut: (Rating | undefined)[] = [];
  users.forEach((list, user) => {
    // The latest in stream order (time, then item id): among interactions in the same second the
    // highest item id counts as the latest; see docs/evaluation.md for why the tie-break matters.
    let last = -1;
    list.forEach((r, i) => {
      if (last < 0 || compareInTime(r, list[last] as Rating) > 0) last = i;
    });
    heldOut[user] = last < 0 ? undefined : list[last];
    list.forEach((r, i) => {
      if (i !== last) trainSet.push(r);
    });
  });
  const trained = train(model, trainSet, { ...options, ...(onProgress ? { onProgress } : {}) });

  const random = new Random(options.seed ^ 0x100);
  const itemCount = data.items.length;
  const hr = new Mean();
  const ndcg = new Mean();
  const mrr = new Mean();
  const candidates = new Int32Array(options.negatives + 1);
  const scores = new Float32Array(options.negatives + 1);
  const all = new Float32Array(itemCount);
  users.forEach((list, user) => {
    const positive = heldOut[user];
    if (positive === undefined) return;
    const seen = new Set(list.map((r) => r.item));
    const negatives = new Set<number>();
    const available = itemCount - seen.size;
    const wanted = Math.min(options.negatives, available);
    while (negatives.size < wanted) {
      const j = random.int(itemCount);
      if (!seen.has(j)) negatives.add(j);
    }
    candidates[0] = positive.item;
    let n = 1;
    for (const j of negatives) candidates[n++] = j;
    const view = candidates.subarray(0, n);
    const out = scores.subarray(0, n);
    if (model.scoreItems !== undefined) {
      model.scoreItems(user, view, out);
    } else {
      model.scoreAll(user, all);
      for (let c = 0; c < n; c++) out[c] = all[view[c] as number] as number;
    }
    const rank = rankAmong(out[0] as number, out, 1, n, random);
    hr.add(hitRate(rank, options.k));
    ndcg.add(ndcgSingle(rank, options.k));
    mrr.add(reciprocalRank(rank));
    if ((user & 63) === 0) onProgress?.('evaluate', user, users.length);
  });
  onProgress?.('evaluate', users.length, users.length);
  return {
    protocol: 'loo',
    model: model.name,
    settings: {
      epochs: options.epochs,
      order: options.order,
      seed: options.seed,
      negatives: options.negatives,
      k: options.k,
      feedback: model.feedback,
    },
    metrics: {
      [`hr@${options.k}`]: hr.value,
      [`ndcg@${options.k}`]: ndcg.value,
      mrr: mrr.value,
      users: hr.count,
    },
    trainSeconds: trained.seconds,
    eventsPerSecond: trained.seconds > 0 ? trained.events / trained.seconds : 0,
  };
}
