import { featuresOf, type Feature } from '../model/features.ts';
import { HybridMF, type HybridMfConfig } from '../model/hybrid-mf.ts';
import { NeuMF, type NeuMfConfig } from '../model/neumf/neumf.ts';
import type { MovieLens } from './movielens.ts';
import type { EvalInteraction, EvalModel } from './model.ts';

/** Item popularity: the number of interactions seen so far (training part, or the stream so far). */
export class PopularityModel implements EvalModel {
  readonly name = 'pop';
  readonly feedback = 'implicit' as const;
  readonly #counts: Float64Array;

  constructor(itemCount: number) {
    this.#counts = new Float64Array(itemCount);
  }

  learn(x: EvalInteraction): void {
    this.#counts[x.item] = (this.#counts[x.item] as number) + 1;
  }

  flush(): void {}

  scoreAll(_user: number, out: Float32Array): void {
    out.set(this.#counts.subarray(0, out.length));
  }
}

export interface MfEvalOptions {
  readonly feedback: 'implicit' | 'explicit';
  /** Use content features (genres, year; age, gender, occupation) in the hybrid model. */
  readonly features: boolean;
  readonly config: Partial<HybridMfConfig>;
}

/** The hybrid MF model over a MovieLens data set (user i and item j are table rows i and j). */
export class MfEvalModel implements EvalModel {
  readonly name = 'mf';
  readonly feedback: 'implicit' | 'explicit';
  readonly model: HybridMF;

  constructor(data: MovieLens, options: MfEvalOptions) {
    this.feedback = options.feedback;
    this.model = new HybridMF(options.config);
    // Create rows in data-set order so table index == data-set index.
    data.users.forEach((user) => {
      this.model.users.ensure(`u${user.id}`);
      if (options.features) this.model.setUserFeatures(`u${user.id}`, movieLensUserFeatures(user));
    });
    data.items.forEach((item) => {
      this.model.items.ensure(`i${item.id}`);
      if (options.features) this.model.setItemFeatures(`i${item.id}`, movieLensItemFeatures(item));
    });
  }

  learn(x: EvalInteraction): void {
    this.model.learn({
      user: x.user,
      item: x.item,
      weight: 1,
      kind: this.feedback,
      value: x.value,
      time: x.time,
    });
  }

  flush(): void {}

  scoreAll(user: number, out: Float32Array): void {
    this.model.scoreAll(user, out, this.feedback === 'explicit');
  }

  predictRating(user: number, item: number): number {
    return Math.min(5, Math.max(1, this.model.predictRating(user, item)));
  }
}

export function movieLensItemFeatures(item: MovieLens['items'][number]): Feature[] {
  const decade = item.year === undefined ? undefined : `${Math.floor(item.year / 10) * 10}s`;
  return featuresOf({ tags: item.genres, ...(decade ? { attributes: { decade } } : {}) });
}

export function movieLensUserFeatures(user: MovieLens['users'][number]): Feature[] {
  return featuresOf({
    attributes: { age: movieLensAgeBucket(user.age), gender: user.gender, occupation: user.occupation },
  });
}

/** MovieLens ages as the data set's own survey brackets (a categorical feature). */
export function movieLensAgeBucket(years: number): string {
  return years < 18
    ? 'under-18'
    : years < 25
      ? '18-24'
      : years < 35
        ? '25-34'
        : years < 45
          ? '35-44'
          : years < 55
            ? '45-54'
            : '55+';
}

export interface NeuMfEvalOptions {
  readonly config: Partial<NeuMfConfig>;
}

/** NeuMF over a MovieLens data set (indices aligned with the data set). */
export class NeuMfEvalModel implements EvalModel {
  readonly name = 'neumf';
  readonly feedback = 'implicit' as const;
  readonly model: NeuMF;
  readonly #itemCount: number;
  readonly #allItems: Int32Array;
  readonly #noContext: Int32Array;

  constructor(data: MovieLens, options: NeuMfEvalOptions) {
    this.model = new NeuMF(options.config);
    data.users.forEach((user) => this.model.ensureUser(`u${user.id}`));
    data.items.forEach((item) => this.model.ensureItem(`i${item.id}`));
    this.#itemCount = data.items.length;
    this.#allItems = Int32Array.from({ length: this.#itemCount }, (_, i) => i);
    // MovieLens has no request context; every example shares one (derived from its time is
    // avoided on purpose: the scoring context would then have to guess a time).
    this.#noContext = this.model.contextRows({ hour: 12, dow: 3, device: 'web' }, 0);
  }

  learn(x: EvalInteraction): void {
    this.model.learn({
      user: x.user,
      item: x.item,
      weight: 1,
      time: x.time,
      context: { hour: 12, dow: 3, device: 'web' },
    });
  }

  flush(): void {
    this.model.flush();
  }

  scoreAll(user: number, out: Float32Array): void {
    this.model.scoreItems(user, this.#allItems, this.#noContext, out);
  }

  scoreItems(user: number, items: Int32Array, out: Float32Array): void {
    this.model.scoreItems(user, items, this.#noContext, out);
  }

  dispose(): void {
    this.model.dispose();
  }
}
