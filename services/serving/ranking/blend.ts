import { SOURCES, type SourceName } from '../../../shared/schemas/api.ts';

/**
 * How model scores and fallback scores are combined into one ranking (pure functions, unit-tested
 * with hand-worked numbers).
 *
 * Every signal is first put on a common [0, 1] scale. Model scores, popularity and content
 * similarity by their rank among the request's candidates that have them (1 for the best, 1/n for
 * the worst, 0 when the item lacks the signal): raw scores, decayed counts and sparse-feature
 * cosines live on unrelated scales, and only their order within a request compares. The session
 * signal (item transitions) is divided by its best candidate's, so its best is 1 and an item it
 * knows nothing of is 0, as the offline `hybrid` model scales it; `similar` stays the cosine of MF
 * item vectors (clipped to [0, 1]), so a weak match stays weak.
 *
 * The personal side is the model score (MF's, or MF's and NeuMF's averaged with NeuMF weighing
 * `neumfShare` times as much) plus the session signal weighing `sessionShare` times as much:
 * `(model + sessionShare * session) / (1 + sessionShare)`, long-term taste and what tends to come
 * next. The fallback is the largest fallback signal (popularity scaled by POPULAR_SHARE, content,
 * similar, session). They are blended by a weight that grows with interactions:
 * w = wUser * wItem, each n / (n + half), so a new user (or an item nobody touched) gets the
 * fallback, an active user on a well-known item the personal side, and everyone in between a
 * smooth mix.
 */
export type Source = SourceName;
export { SOURCES };

/**
 * Rank-normalised scores: the best defined value gets 1, the worst 1/n, undefined gets 0; equal
 * values share the better rank's score (so ties stay ties).
 */
export function rankNormalize(values: readonly (number | undefined)[]): Float64Array {
  const out = new Float64Array(values.length);
  rankNormalizeInto(
    Float64Array.from(values, (v) => (v === undefined ? Number.NaN : v)),
    values.length,
    out,
  );
  return out;
}

/** rankNormalizeInto's sort buffer, reused (it is synchronous). */
let sortScratch = new Float64Array(256);

/**
 * rankNormalize over the first `n` of typed `values` (NaN or infinite: no value), into `out`:
 * a value's score is (m - greater) / m, where m values are defined and `greater` of them are
 * strictly larger; found by binary search in the sorted values (no comparator sort, no objects).
 */
export function rankNormalizeInto(values: Float64Array, n: number, out: Float64Array): void {
  let m = 0;
  if (sortScratch.length < n) sortScratch = new Float64Array(2 * n);
  const sorted = sortScratch;
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    if (Number.isFinite(v)) sorted[m++] = v;
  }
  const defined = sorted.subarray(0, m).sort();
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) {
      out[i] = 0;
      continue;
    }
    // First index whose value is > v.
    let lo = 0;
    let hi = m;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((defined[mid] as number) > v) hi = mid;
      else lo = mid + 1;
    }
    out[i] = lo / m;
  }
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
  readonly similar?: number;
}

export interface Blended {
  readonly score: number;
  readonly source: Source;
}

/** Blends one candidate's signals with model weight `w` (see the module comment). */
export function blend(
  signals: Signals,
  w: number,
  neumfShare: number = NEUMF_SHARE,
  sessionShare: number = SESSION_SHARE,
): Blended {
  const nan = (v: number | undefined) => (v === undefined ? Number.NaN : v);
  const out = { score: 0, source: 0 };
  blendRaw(
    {
      mf: nan(signals.mf),
      neumf: nan(signals.neumf),
      popular: nan(signals.popular),
      content: nan(signals.content),
      session: nan(signals.session),
      similar: nan(signals.similar),
    },
    w,
    neumfShare,
    sessionShare,
    out,
  );
  return { score: out.score, source: SOURCES[out.source] as Source };
}

/** The session signal's default weight against the model score (config model.session.weight). */
export const SESSION_SHARE = 1;

/** A candidate's normalised signals as plain numbers (NaN: absent). */
export interface RawSignals {
  mf: number;
  neumf: number;
  popular: number;
  content: number;
  session: number;
  similar: number;
}

const MF = SOURCES.indexOf('mf');
const NEUMF = SOURCES.indexOf('neumf');
const CONTENT = SOURCES.indexOf('content');
const POPULAR = SOURCES.indexOf('popular');
const SESSION = SOURCES.indexOf('session');
const SIMILAR = SOURCES.indexOf('similar');

/**
 * `blend` on plain numbers (NaN: the signal is absent), for the request path: writes the score
 * and the source code (an index into SOURCES) into `out`, allocating nothing (`signals` is the
 * caller's reused object).
 */
export function blendRaw(
  signals: RawSignals,
  w: number,
  neumfShare: number,
  sessionShare: number,
  out: { score: number; source: number },
): void {
  const { mf, neumf, popular, content, session, similar } = signals;
  const hasMf = !Number.isNaN(mf);
  const hasNeumf = !Number.isNaN(neumf);
  const hasModel = hasMf || hasNeumf;
  const hasSession = !Number.isNaN(session);
  const model = !hasNeumf ? (hasMf ? mf : 0) : !hasMf ? neumf : (mf + neumfShare * neumf) / (1 + neumfShare);
  let personal = model;
  let personalSource = hasNeumf && (!hasMf || neumfShare * neumf >= mf) ? NEUMF : MF;
  if (hasModel && hasSession && sessionShare > 0) {
    personal = (model + sessionShare * session) / (1 + sessionShare);
    if (sessionShare * session > model) personalSource = SESSION;
  }
  const weight = hasModel ? w : 0;
  let fallback = 0;
  let fallbackSource = POPULAR;
  if (!Number.isNaN(popular) && POPULAR_SHARE * popular > fallback) fallback = POPULAR_SHARE * popular;
  if (!Number.isNaN(content) && content > fallback) {
    fallback = content;
    fallbackSource = CONTENT;
  }
  if (hasSession && session > fallback) {
    fallback = session;
    fallbackSource = SESSION;
  }
  if (!Number.isNaN(similar) && similar > fallback) {
    fallback = similar;
    fallbackSource = SIMILAR;
  }
  const personalPart = weight * personal;
  const fallbackPart = (1 - weight) * fallback;
  out.source =
    hasModel && (fallback === 0 || (personalPart > 0 && personalPart >= fallbackPart))
      ? personalSource
      : fallbackSource;
  out.score = personalPart + fallbackPart;
}
