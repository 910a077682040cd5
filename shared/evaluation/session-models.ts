import { ItemTransitions, type ItemTransitionsConfig } from '../model/item-transitions.ts';
import { MfEvalModel, type MfEvalOptions } from './models.ts';
import type { MovieLens } from './movielens.ts';
import type { EvalInteraction, EvalModel } from './model.ts';

/**
 * The session signal alone: item-to-item transitions learned from the stream in time order
 * (shared/model/item-transitions.ts). It learns through `observe`, once per interaction in time
 * order; replaying epochs (in any order) teaches it nothing more.
 */
export class SessionEvalModel implements EvalModel {
  readonly name: string = 'session';
  readonly feedback = 'implicit' as const;
  readonly transitions: ItemTransitions;

  constructor(config: Partial<ItemTransitionsConfig> = {}) {
    this.transitions = new ItemTransitions(config);
  }

  observe(x: EvalInteraction): void {
    this.transitions.observe(x.user, x.item);
  }

  learn(_x: EvalInteraction): void {}

  flush(): void {}

  scoreAll(user: number, out: Float32Array): void {
    this.transitions.scoreAll(user, out);
  }
}

export interface HybridEvalOptions extends MfEvalOptions {
  readonly transitions: Partial<ItemTransitionsConfig>;
  /** Weight of the session signal against MF's (both scaled to at most 1 per user). */
  readonly sessionWeight: number;
}

/**
 * What serving ranks with for a known user: MF's long-term taste plus the session signal (what
 * tends to come next after the user's latest items). Each side is scaled per user so its best
 * item scores 1 (MF from its mean up, the session from 0 up), then
 * `score = mf + sessionWeight * session`.
 */
export class HybridEvalModel implements EvalModel {
  readonly name = 'hybrid';
  readonly feedback = 'implicit' as const;
  readonly mf: MfEvalModel;
  readonly session: SessionEvalModel;
  readonly #weight: number;
  #buffer = new Float32Array(0);

  constructor(data: MovieLens, options: HybridEvalOptions) {
    this.mf = new MfEvalModel(data, { ...options, feedback: 'implicit' });
    this.session = new SessionEvalModel(options.transitions);
    this.#weight = options.sessionWeight;
  }

  observe(x: EvalInteraction): void {
    this.session.observe(x);
  }

  learn(x: EvalInteraction): void {
    this.mf.learn(x);
  }

  flush(): void {}

  scoreAll(user: number, out: Float32Array): void {
    if (this.#buffer.length !== out.length) this.#buffer = new Float32Array(out.length);
    const session = this.#buffer;
    this.mf.scoreAll(user, out);
    this.session.scoreAll(user, session);
    blendScaled(out, session, this.#weight);
  }
}

/**
 * `into = scaled(into) + weight * scaled(other)` where `scaled(mf)` maps the mean to 0 and the
 * maximum to 1, and `scaled(session)` divides by the maximum (its floor is already 0).
 */
export function blendScaled(into: Float32Array, other: Float32Array, weight: number): void {
  const n = into.length;
  let sum = 0;
  let max = -Infinity;
  let otherMax = 0;
  for (let i = 0; i < n; i++) {
    const s = into[i] as number;
    sum += s;
    if (s > max) max = s;
    const o = other[i] as number;
    if (o > otherMax) otherMax = o;
  }
  const mean = n === 0 ? 0 : sum / n;
  const spread = max - mean;
  const a = spread > 0 ? 1 / spread : 0;
  const b = otherMax > 0 ? weight / otherMax : 0;
  for (let i = 0; i < n; i++) into[i] = a * ((into[i] as number) - mean) + b * (other[i] as number);
}
