import { Random } from '../../model/random.ts';
import { selectTopK } from '../../model/topk.ts';
import { Mean, listMetrics } from '../metrics.ts';
import type { MovieLens, Rating } from '../movielens.ts';
import type { EvalModel, EvalResult, ProgressListener } from '../model.ts';
import { byUser, shuffled, train, type TrainOptions } from './common.ts';

export interface SplitOptions extends TrainOptions {
  /** Share of each user's interactions used for training (0.75 in the benchmark). */
  readonly ratio: number;
  readonly k: number;
}

/**
 * Random split stratified per user, the Microsoft Recommenders benchmark protocol: each user's
 * interactions are shuffled (seeded) and `ratio` of them train; every item not in the user's
 * training set is ranked; precision@k, recall@k, NDCG@k and MAP@k against the user's test items,
 * plus MRR and catalog coverage of the top-k lists.
 */
export function runRandomSplit(
  data: MovieLens,
  model: EvalModel,
  options: SplitOptions,
  onProgress?: ProgressListener,
): EvalResult {
  const random = new Random(options.seed ^ 0x5917);
  const users = byUser(data.ratings, data.users.length);
  const trainSet: Rating[] = [];
  const tests: Rating[][] = [];
  const trainItems: Set<number>[] = [];
  users.forEach((list, user) => {
    const order = shuffled(list, random);
    const cut = Math.round(order.length * options.ratio);
    const head = order.slice(0, cut);
    trainSet.push(...head);
    tests[user] = order.slice(cut);
    trainItems[user] = new Set(head.map((r) => r.item));
  });
  const trained = train(model, trainSet, { ...options, ...(onProgress ? { onProgress } : {}) });

  const itemCount = data.items.length;
  const scores = new Float32Array(itemCount);
  const precision = new Mean();
  const recall = new Mean();
  const ndcg = new Mean();
  const map = new Mean();
  const mrr = new Mean();
  const recommended = new Set<number>();
  users.forEach((_, user) => {
    const test = tests[user] as Rating[];
    if (test.length === 0) return;
    model.scoreAll(user, scores);
    const known = trainItems[user] as Set<number>;
    const top = selectTopK(scores, options.k, itemCount, (i) => known.has(i));
    for (const i of top.indices) recommended.add(i);
    const m = listMetrics(top.indices, new Set(test.map((r) => r.item)), options.k);
    precision.add(m.precision);
    recall.add(m.recall);
    ndcg.add(m.ndcg);
    map.add(m.map);
    mrr.add(m.mrr);
    if ((user & 63) === 0) onProgress?.('evaluate', user, users.length);
  });
  onProgress?.('evaluate', users.length, users.length);
  const k = options.k;
  return {
    protocol: 'split',
    model: model.name,
    settings: {
      epochs: options.epochs,
      order: options.order,
      seed: options.seed,
      ratio: options.ratio,
      k,
      feedback: model.feedback,
    },
    metrics: {
      [`precision@${k}`]: precision.value,
      [`recall@${k}`]: recall.value,
      [`ndcg@${k}`]: ndcg.value,
      [`map@${k}`]: map.value,
      mrr: mrr.value,
      coverage: recommended.size / itemCount,
      users: precision.count,
    },
    trainSeconds: trained.seconds,
    eventsPerSecond: trained.seconds > 0 ? trained.events / trained.seconds : 0,
  };
}
