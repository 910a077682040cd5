import { describe, expect, it } from 'vitest';
import { PopularityModel } from '../../../shared/evaluation/models.ts';
import type { EvalInteraction, EvalModel } from '../../../shared/evaluation/model.ts';
import type { MovieLens, Rating } from '../../../shared/evaluation/movielens.ts';
import { runLeaveOneOut } from '../../../shared/evaluation/protocols/loo.ts';
import { runPrequential } from '../../../shared/evaluation/protocols/prequential.ts';
import { runRandomSplit } from '../../../shared/evaluation/protocols/split.ts';

function dataset(users: number, items: number, ratings: Rating[]): MovieLens {
  return {
    users: Array.from({ length: users }, (_, i) => ({
      id: String(i + 1),
      age: 30,
      gender: 'F',
      occupation: 'x',
    })),
    items: Array.from({ length: items }, (_, i) => ({
      id: String(i + 1),
      title: `t${i}`,
      genres: [],
      year: undefined,
    })),
    ratings,
  };
}

/** Records what it learns; scores items by a fixed table. */
class Recorder implements EvalModel {
  readonly name = 'recorder';
  readonly feedback = 'implicit' as const;
  readonly learned: EvalInteraction[] = [];
  readonly scores: (user: number, item: number) => number;
  constructor(scores: (user: number, item: number) => number) {
    this.scores = scores;
  }
  learn(x: EvalInteraction): void {
    this.learned.push(x);
  }
  flush(): void {}
  scoreAll(user: number, out: Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.scores(user, i);
  }
}

const r = (user: number, item: number, time: number, rating = 4): Rating => ({ user, item, rating, time });

describe('leave-one-out', () => {
  it("holds out each user's latest interaction, the highest item id among same-second ties", () => {
    const data = dataset(2, 200, [r(0, 5, 10), r(0, 7, 30), r(0, 3, 30), r(1, 9, 5), r(1, 4, 1)]);
    const model = new Recorder((_u, i) => (i === 7 || i === 9 ? 100 : 0));
    const result = runLeaveOneOut(data, model, { epochs: 1, order: 'time', seed: 1, negatives: 99, k: 10 });
    // Training saw everything but item 7 (user 0) and item 9 (user 1), in time order.
    expect(model.learned.map((x) => [x.user, x.item])).toEqual([
      [1, 4],
      [0, 5],
      [0, 3],
    ]);
    expect(result.metrics['hr@10']).toBe(1);
    expect(result.metrics['ndcg@10']).toBe(1);
    expect(result.metrics['users']).toBe(2);
  });

  it('ranks against sampled unseen negatives: a model that puts the positive last scores 0', () => {
    const data = dataset(1, 150, [r(0, 1, 1), r(0, 2, 2)]);
    const worst = new Recorder((_u, i) => (i === 2 ? -1 : 1));
    expect(
      runLeaveOneOut(data, worst, { epochs: 1, order: 'time', seed: 1, negatives: 99, k: 10 }).metrics[
        'hr@10'
      ],
    ).toBe(0);
    // All scores equal: a random rank among 100, so HR@10 over many users is about 0.1.
    const users = 400;
    const many = dataset(
      users,
      300,
      Array.from({ length: users }, (_, u) => [r(u, u % 300, 1), r(u, (u + 1) % 300, 2)]).flat(),
    );
    const flat = runLeaveOneOut(many, new Recorder(() => 0), {
      epochs: 1,
      order: 'time',
      seed: 3,
      negatives: 99,
      k: 10,
    });
    expect(flat.metrics['hr@10']).toBeGreaterThan(0.06);
    expect(flat.metrics['hr@10']).toBeLessThan(0.14);
  });
});

describe('random split', () => {
  it("splits each user 75/25 and ranks only items outside the user's training set", () => {
    const ratings = Array.from({ length: 8 }, (_, i) => r(0, i, i));
    const data = dataset(1, 20, ratings);
    // Score = item id: the best items are the user's own highest ids, minus those in training.
    const model = new Recorder((_u, i) => (i < 8 ? i : -1));
    const result = runRandomSplit(data, model, { epochs: 1, order: 'time', seed: 5, ratio: 0.75, k: 2 });
    const trained = new Set(model.learned.map((x) => x.item));
    expect(trained.size).toBe(6);
    // The 2 held-out items are the only items 0-7 not in training, and they get the top 2 slots.
    expect(result.metrics['precision@2']).toBe(1);
    expect(result.metrics['recall@2']).toBe(1);
    expect(result.metrics['ndcg@2']).toBe(1);
    expect(result.metrics['coverage']).toBe(2 / 20);
  });
});

describe('prequential', () => {
  it('ranks each event before learning it, among items the user has not seen', () => {
    // Popularity over a stream: item 0 is popular, user 2 then picks it (a hit at rank 0).
    const data = dataset(3, 50, [r(0, 0, 1), r(1, 0, 2), r(2, 0, 3), r(2, 1, 4)]);
    const pop = new PopularityModel(50);
    const result = runPrequential(data, pop, { k: 1, seed: 1, sample: 1 });
    // Event 1: nothing learned, all tie: rank random among 50 -> likely a miss. Events 2, 3: hits.
    // Event 4 (item 1, never seen): item 0 is excluded (seen by user 2); item 1 ties with 48 others.
    expect(result.metrics['ranked']).toBe(4);
    expect(result.metrics['hr@1']).toBeGreaterThanOrEqual(0.5);
    expect(result.metrics['hr@1']).toBeLessThanOrEqual(0.75);
  });
});
