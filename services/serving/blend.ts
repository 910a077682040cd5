/**
 * How model scores and fallback scores are combined into one ranking (pure functions, unit-tested
 * with hand-worked numbers).
 *
 * Every signal is first put on a common [0, 1] scale. Model scores, popularity and content
 * similarity by their rank among the request's candidates that have them (1 for the best, 1/n for
 * the worst, 0 when the item lacks the signal): raw scores, decayed counts and sparse-feature
 * cosines live on unrelated scales, and only their order within a request compares. The session
 * signal stays the cosine of MF item vectors (clipped to [0, 1]), so a weak session match stays
 * weak. The fallback score is the largest fallback signal
 * (popularity scaled by POPULAR_SHARE), the model score MF's, or MF's and NeuMF's averaged with
 * NeuMF weighing NEUMF_SHARE times as much. They are blended by a weight that
 * grows with interactions: w = wUser * wItem, each n / (n + half), so a new user (or an item nobody
 * touched) gets the fallback, an active user on a well-known item gets the models, and everyone in
 * between a smooth mix.
 */
export type Source = 'mf' | 'neumf' | 'content' | 'popular' | 'session';

/**
 * Rank-normalised scores: the best defined value gets 1, the worst 1/n, undefined gets 0; equal
 * values share the better rank's score (so ties stay ties).
 */
export function rankNormalize(values: readonly (number | undefined)[]): Float64Array {
  const order = values
    .map((value, index) => ({ value, index }))
    .filter((e): e is { value: number; index: number } => e.value !== undefined && Number.isFinite(e.value))
    .sort((a, b) => b.value - a.value || a.index - b.index);
  const out = new Float64Array(values.length);
  const n = order.length;
  let rank = 0;
  order.forEach((e, i) => {
    if (i > 0 && e.value !== order[i - 1]?.value) rank = i;
    out[e.index] = (n - rank) / n;
  });
  return out;
}

/** The weight of the model side for `count` interactions: count / (count + half). */
export function interactionWeight(count: number, half: number): number {
  return count <= 0 ? 0 : count / (count + half);
}

/**
 * NeuMF re-ranks: where it scored a candidate, its opinion counts twice MF's (it sees the
 * context and is the more expressive model), as long as its live quality keeps up with MF's
 * (model-quality.ts lowers the share when it does not).
 */
export const NEUMF_SHARE = 2;
/**
 * Popularity is the least personal fallback: scaled down so that a strong content or session
 * match (an item like the ones the user just touched) outranks the generically popular ones. For a
 * user without history popularity is the only signal, so the scale changes nothing there.
 */
export const POPULAR_SHARE = 0.8;

export interface Signals {
  /** Normalised model signals (undefined: the item has none). */
  readonly mf?: number;
  readonly neumf?: number;
  /** Normalised fallback signals. */
  readonly popular?: number;
  readonly content?: number;
  readonly session?: number;
}

export interface Blended {
  readonly score: number;
  readonly source: Source;
}

/** Blends one candidate's signals with model weight `w` (see the module comment). */
export function blend(signals: Signals, w: number, neumfShare: number = NEUMF_SHARE): Blended {
  const models = [signals.mf, signals.neumf].filter((v): v is number => v !== undefined);
  const model =
    signals.neumf === undefined
      ? (signals.mf ?? 0)
      : signals.mf === undefined
        ? signals.neumf
        : (signals.mf + neumfShare * signals.neumf) / (1 + neumfShare);
  const weight = models.length === 0 ? 0 : w;
  let fallback = 0;
  let fallbackSource: Source = 'popular';
  for (const source of ['popular', 'content', 'session'] as const) {
    const value =
      source === 'popular' && signals.popular !== undefined
        ? POPULAR_SHARE * signals.popular
        : signals[source];
    if (value !== undefined && value > fallback) {
      fallback = value;
      fallbackSource = source;
    }
  }
  const modelPart = weight * model;
  const fallbackPart = (1 - weight) * fallback;
  const modelSource: Source =
    signals.neumf !== undefined && (signals.mf === undefined || neumfShare * signals.neumf >= signals.mf)
      ? 'neumf'
      : 'mf';
  const source: Source =
    models.length > 0 && (fallback === 0 || (modelPart > 0 && modelPart >= fallbackPart))
      ? modelSource
      : fallbackSource;
  return { score: modelPart + fallbackPart, source };
}
