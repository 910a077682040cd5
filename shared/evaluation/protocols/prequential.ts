import { rankAmong } from '../../model/rank.ts';
import { Random } from '../../model/random.ts';
import { ErrorStats, Mean, hitRate, ndcgSingle, reciprocalRank } from '../metrics.ts';
import { inTimeOrder, type MovieLens } from '../movielens.ts';
import type { EvalModel, EvalResult, ProgressListener } from '../model.ts';
import { toInteraction } from './common.ts';

export interface PrequentialOptions {
  readonly k: number;
  readonly seed: number;
  /** Share of events that are ranked before being learned (all by default). */
  readonly sample: number;
}

/**
 * Prequential (test-then-train) evaluation over the whole stream in timestamp order, the
 * protocol River reports on MovieLens 100K: before learning each event, the true item is ranked
 * among all items the user has not interacted with yet (HR@k, NDCG@k, MRR) and, for explicit
 * models, its rating is predicted (RMSE, MAE). One pass; nothing is learned twice.
 */
export function runPrequential(
  data: MovieLens,
  model: EvalModel,
  options: PrequentialOptions,
  onProgress?: ProgressListener,
): EvalResult {
  const stream = inTimeOrder(data.ratings);
  const explicit = model.feedback === 'explicit';
  const itemCount = data.items.length;
  const seen: Set<number>[] = Array.from({ length: data.users.length }, () => new Set());
  const scores = new Float32Array(itemCount);
  const random = new Random(options.seed ^ 0x9e3);
  const hr = new Mean();
  const ndcg = new Mean();
  const mrr = new Mean();
  const errors = new ErrorStats();
  let learnSeconds = 0;
  stream.forEach((r, index) => {
    const userSeen = seen[r.user] as Set<number>;
    if (explicit && model.predictRating !== undefined) {
      errors.add(model.predictRating(r.user, r.item), r.rating);
    }
    if (options.sample >= 1 || random.next() < options.sample) {
      model.scoreAll(r.user, scores);
      const rank = rankAmong(
        scores[r.item] as number,
        scores,
        0,
        itemCount,
        random,
        (i) => i === r.item || userSeen.has(i),
      );
      hr.add(hitRate(rank, options.k));
      ndcg.add(ndcgSingle(rank, options.k));
      mrr.add(reciprocalRank(rank));
    }
    const started = performance.now();
    // No flush: a model that learns in micro-batches keeps batching, as it would in production.
    const x = toInteraction(r, explicit);
    model.learn(x);
    model.observe?.(x);
    learnSeconds += (performance.now() - started) / 1000;
    userSeen.add(r.item);
    if ((index & 1023) === 0) onProgress?.('prequential', index, stream.length);
  });
  onProgress?.('prequential', stream.length, stream.length);
  const k = options.k;
  const metrics: Record<string, number> = {
    [`hr@${k}`]: hr.value,
    [`ndcg@${k}`]: ndcg.value,
    mrr: mrr.value,
    ranked: hr.count,
  };
  if (explicit) {
    metrics['rmse'] = errors.rmse;
    metrics['mae'] = errors.mae;
  }
  return {
    protocol: 'prequential',
    model: model.name,
    settings: { seed: options.seed, k, sample: options.sample, feedback: model.feedback },
    metrics,
    trainSeconds: learnSeconds,
    eventsPerSecond: learnSeconds > 0 ? stream.length / learnSeconds : 0,
  };
}
