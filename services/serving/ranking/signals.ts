import { rankNormalizeInto } from './blend.ts';
import type { CandidateSet } from './candidates.ts';

/**
 * The candidates' raw signals put on the blend's common [0, 1] scale (blend.ts), in buffers
 * reused by every request (the serving process ranks one request at a time): MF, popularity and
 * content by rank among the candidates that have them, `similar` as a clipped cosine, the
 * session signal over its best candidate's. A signal a candidate lacks stays absent (NaN),
 * except the session signal: once a request has one, a candidate it knows nothing of scores 0,
 * as in the offline hybrid.
 */
export class NormalizedSignals {
  mf = new Float64Array(256);
  popular = new Float64Array(256);
  content = new Float64Array(256);
  similar = new Float64Array(256);
  session = new Float64Array(256);

  /** Normalises the first `found.size` candidates' signals into this object's arrays. */
  normalize(found: CandidateSet): void {
    const n = found.size;
    if (this.mf.length < n) {
      const size = 2 * n;
      this.mf = new Float64Array(size);
      this.popular = new Float64Array(size);
      this.content = new Float64Array(size);
      this.similar = new Float64Array(size);
      this.session = new Float64Array(size);
    }
    byRank(found.mf, n, this.mf);
    byRank(found.popular, n, this.popular);
    byRank(found.content, n, this.content);
    const similar = this.similar;
    for (let c = 0; c < n; c++) {
      const v = found.similar[c] as number;
      similar[c] = Number.isNaN(v) ? Number.NaN : Math.min(1, Math.max(0, v));
    }
    const session = this.session;
    let best = 0;
    for (let c = 0; c < n; c++) {
      const v = found.session[c] as number;
      if (v > best) best = v;
    }
    for (let c = 0; c < n; c++) {
      const v = found.session[c] as number;
      session[c] = best === 0 ? Number.NaN : Number.isNaN(v) ? 0 : v / best;
    }
  }
}

/** rankNormalizeInto, keeping an absent raw value absent. */
function byRank(raw: Float64Array, n: number, out: Float64Array): void {
  rankNormalizeInto(raw, n, out);
  for (let c = 0; c < n; c++) if (Number.isNaN(raw[c] as number)) out[c] = Number.NaN;
}
