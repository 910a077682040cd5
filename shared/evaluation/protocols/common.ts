import { Random } from '../../model/random.ts';
import { inTimeOrder, type Rating } from '../movielens.ts';
import type { EvalInteraction, EvalModel, ProgressListener } from '../model.ts';

export interface TrainOptions {
  readonly epochs: number;
  /** 'time': replay in timestamp order every epoch; 'shuffle': a seeded shuffle per epoch. */
  readonly order: 'time' | 'shuffle';
  readonly seed: number;
  readonly onProgress?: ProgressListener;
}

export function toInteraction(r: Rating, explicit: boolean): EvalInteraction {
  return { user: r.user, item: r.item, value: explicit ? r.rating : 1, time: r.time * 1000 };
}

/** Replays training interactions into the model for N epochs; returns seconds spent learning. */
export function train(
  model: EvalModel,
  ratings: readonly Rating[],
  options: TrainOptions,
): { seconds: number; events: number } {
  const explicit = model.feedback === 'explicit';
  const ordered = inTimeOrder(ratings);
  const random = new Random(options.seed ^ 0x5eed);
  const total = ordered.length * options.epochs;
  let seconds = 0;
  if (model.observe !== undefined) {
    const started = performance.now();
    for (const r of ordered) model.observe(toInteraction(r, explicit));
    seconds += (performance.now() - started) / 1000;
  }
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = options.order === 'shuffle' ? shuffled(ordered, random) : ordered;
    const started = performance.now();
    for (let k = 0; k < order.length; k++) {
      model.learn(toInteraction(order[k] as Rating, explicit));
      if ((k & 4095) === 0)
        options.onProgress?.(`train epoch ${epoch + 1}/${options.epochs}`, epoch * order.length + k, total);
    }
    model.flush();
    seconds += (performance.now() - started) / 1000;
  }
  options.onProgress?.('train', total, total);
  return { seconds, events: total };
}

export function shuffled<T>(values: readonly T[], random: Random): T[] {
  const out = [...values];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const t = out[i] as T;
    out[i] = out[j] as T;
    out[j] = t;
  }
  return out;
}

/** Ratings grouped by user, each user's list in file order. */
export function byUser(ratings: readonly Rating[], users: number): Rating[][] {
  const out: Rating[][] = Array.from({ length: users }, () => []);
  for (const r of ratings) (out[r.user] as Rating[]).push(r);
  return out;
}
