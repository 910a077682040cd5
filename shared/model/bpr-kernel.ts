import { sigmoid } from './math.ts';
import type { RowOptimizerConfig } from './optimizer.ts';

/** Where a BPR triple's rows live: the user table and the item table, row-major, `dim` columns. */
export interface BprRows {
  users: Float32Array;
  userAccum: Float32Array;
  items: Float32Array;
  itemAccum: Float32Array;
  dim: number;
}

/**
 * One BPR step on plain rows (ids without features) against a single negative, fused: the same
 * update as three `updateRow` calls (optimizer.ts) with the gradients
 *
 *   g_i = -c u + l2 v_i,   g_j = c u + l2 v_j,   g_u = -c (v_i - v_j) + l2 u
 *
 * (all from the values before the step), but in two passes over the three rows instead of eight.
 * The first pass (done by the caller's score, `dots`) gives every dot product the gradient norms
 * need, since |a x + b y|^2 = a^2 |x|^2 + 2ab x.y + b^2 |y|^2; the second updates the three rows
 * together. Returns false, changing nothing, when a norm is not finite. The result equals the
 * unfused step up to float rounding (test/unit/model/bpr-kernel.test.ts).
 */
export function bprStepPlain(
  rows: BprRows,
  user: number,
  item: number,
  negative: number,
  c: number,
  dots: BprDots,
  config: RowOptimizerConfig,
): boolean {
  const { dim } = rows;
  const l2 = config.l2;
  const { uu, ii, jj, ui, uj, ij } = dots;
  // Squared gradient norms, and each row's dot product with its gradient.
  const ni = Math.max(0, c * c * uu - 2 * c * l2 * ui + l2 * l2 * ii);
  const nj = Math.max(0, c * c * uu + 2 * c * l2 * uj + l2 * l2 * jj);
  const dd = Math.max(0, ii - 2 * ij + jj);
  const nu = Math.max(0, c * c * dd - 2 * c * l2 * (ui - uj) + l2 * l2 * uu);
  if (!Number.isFinite(ni) || !Number.isFinite(nj) || !Number.isFinite(nu)) return false;
  const gi = l2 * ii - c * ui;
  const gj = c * uj + l2 * jj;
  const gu = l2 * uu - c * (ui - uj);
  const si = stepSize(rows.itemAccum, item, ni, dim, config);
  const sj = stepSize(rows.itemAccum, negative, nj, dim, config);
  const su = stepSize(rows.userAccum, user, nu, dim, config);
  // |v - s g|^2 = |v|^2 - 2 s v.g + s^2 |g|^2: the max-norm cap is known before the update, so
  // it folds into the update's coefficients (one pass, no second scaling pass).
  const max = config.maxNorm;
  const fi = capFactor(ii - 2 * si * gi + si * si * ni, max);
  const fj = capFactor(jj - 2 * sj * gj + sj * sj * nj, max);
  const fu = capFactor(uu - 2 * su * gu + su * su * nu, max);
  // x_i = f_i (v_i - s_i (l2 v_i - c u)), x_j = f_j (v_j - s_j (c u + l2 v_j)),
  // x_u = f_u (u - s_u (l2 u - c (v_i - v_j))).
  const ai = fi * (1 - si * l2);
  const bi = fi * si * c;
  const aj = fj * (1 - sj * l2);
  const bj = -fj * sj * c;
  const au = fu * (1 - su * l2);
  const bu = fu * su * c;
  const U = rows.users;
  const V = rows.items;
  const uo = user * dim;
  const io = item * dim;
  const jo = negative * dim;
  for (let d = 0; d < dim; d++) {
    const u = U[uo + d] as number;
    const vi = V[io + d] as number;
    const vj = V[jo + d] as number;
    V[io + d] = ai * vi + bi * u;
    V[jo + d] = aj * vj + bj * u;
    U[uo + d] = au * u + bu * (vi - vj);
  }
  return true;
}

/** The factor that brings a row of squared norm `norm2` down to `max` (1 when within it or uncapped). */
function capFactor(norm2: number, max: number): number {
  return max > 0 && norm2 > max * max ? max / Math.sqrt(norm2) : 1;
}

/** The dot products of the step's rows before it: |u|^2, |v_i|^2, |v_j|^2, u.v_i, u.v_j, v_i.v_j. */
export interface BprDots {
  uu: number;
  ii: number;
  jj: number;
  ui: number;
  uj: number;
  ij: number;
}

/** Fills `out` with the six dot products of one pass over the rows. */
export function bprDots(rows: BprRows, user: number, item: number, negative: number, out: BprDots): BprDots {
  const { dim } = rows;
  const U = rows.users;
  const V = rows.items;
  const uo = user * dim;
  const io = item * dim;
  const jo = negative * dim;
  let uu = 0;
  let ii = 0;
  let jj = 0;
  let ui = 0;
  let uj = 0;
  let ij = 0;
  for (let d = 0; d < dim; d++) {
    const u = U[uo + d] as number;
    const vi = V[io + d] as number;
    const vj = V[jo + d] as number;
    uu += u * u;
    ii += vi * vi;
    jj += vj * vj;
    ui += u * vi;
    uj += u * vj;
    ij += vi * vj;
  }
  out.uu = uu;
  out.ii = ii;
  out.jj = jj;
  out.ui = ui;
  out.uj = uj;
  out.ij = ij;
  return out;
}

/** updateRow's step size for a gradient of squared norm `norm2` (clipping, row-wise Adagrad). */
function stepSize(
  accum: Float32Array,
  row: number,
  norm2: number,
  dim: number,
  config: RowOptimizerConfig,
): number {
  let step = config.learningRate;
  let n2 = norm2;
  if (config.clipNorm > 0 && n2 > config.clipNorm * config.clipNorm) {
    step *= config.clipNorm / Math.sqrt(n2);
    n2 = config.clipNorm * config.clipNorm;
  }
  if (config.kind === 'adagrad') {
    const a = (accum[row] as number) + n2 / dim;
    accum[row] = a;
    step /= Math.sqrt(a + config.initialAccumulator) + config.epsilon;
  }
  return step;
}

/**
 * Context rows of one step for the fused kernel: row `index[a]` of `vectors[a]` (with its Adagrad
 * accumulator in `accum[a]`) enters the query with weight `alpha[a]` (its group's mean share).
 */
export interface ContextStepRows {
  count: number;
  readonly vectors: Float32Array[];
  readonly accum: Float32Array[];
  readonly index: Int32Array;
  readonly alpha: Float64Array;
}

/** Scratch of bprStepContext (the query and the item difference, reused). */
export interface ContextScratch {
  q: Float32Array;
  delta: Float32Array;
  /** Per context row: |r|^2 and r.(v_i - v_j). */
  rr: Float64Array;
  rd: Float64Array;
  /** Out: the step's score difference (b_i - b_j + q.(v_i - v_j)). */
  diff: number;
}

/**
 * One BPR step against a single negative with context rows, fused: the query is
 * q = u + sum_a alpha_a r_a (a factorization machine's user side), and the step is what
 * updateRow would do to each row with the gradients
 *
 *   g_i = -c q + l2 v_i,   g_j = c q + l2 v_j,   g_u = -c d + l2 u,   g_a = -alpha_a c d + l2 r_a
 *
 * (d = v_i - v_j, all from the values before the step), in one pass over each row to read and
 * one to write instead of about twenty. `bias` is b_i - b_j (0 without item biases) and `weight`
 * the event's; returns c = weight * sigmoid(-diff), with diff in `scratch.diff` (NaN, changing
 * nothing, when a value is not finite). Equal to the unfused step up to float rounding
 * (test/unit/model/bpr-kernel.test.ts).
 */
export function bprStepContext(
  rows: BprRows,
  user: number,
  item: number,
  negative: number,
  context: ContextStepRows,
  scratch: ContextScratch,
  bias: number,
  weight: number,
  config: RowOptimizerConfig,
): number {
  const { dim } = rows;
  const l2 = config.l2;
  const U = rows.users;
  const V = rows.items;
  const uo = user * dim;
  const io = item * dim;
  const jo = negative * dim;
  const q = scratch.q.length >= dim ? scratch.q : (scratch.q = new Float32Array(dim));
  const delta = scratch.delta.length >= dim ? scratch.delta : (scratch.delta = new Float32Array(dim));
  const k = context.count;
  if (scratch.rr.length < k) {
    scratch.rr = new Float64Array(2 * k);
    scratch.rd = new Float64Array(2 * k);
  }
  const { rr, rd } = scratch;
  // Pass 1: the query, and every dot product the gradients' norms and the caps need: first the
  // user's and the items', then each context row's |r|^2 and r.d (its gradient is along d), then
  // the query's with the items.
  let uu = 0;
  let ii = 0;
  let jj = 0;
  let ui = 0;
  let uj = 0;
  let ij = 0;
  for (let d = 0; d < dim; d++) {
    const u = U[uo + d] as number;
    const vi = V[io + d] as number;
    const vj = V[jo + d] as number;
    q[d] = u;
    delta[d] = vi - vj;
    uu += u * u;
    ii += vi * vi;
    jj += vj * vj;
    ui += u * vi;
    uj += u * vj;
    ij += vi * vj;
  }
  for (let a = 0; a < k; a++) {
    const R = context.vectors[a] as Float32Array;
    const ro = (context.index[a] as number) * dim;
    const alpha = context.alpha[a] as number;
    let sr = 0;
    let sd = 0;
    for (let d = 0; d < dim; d++) {
      const r = R[ro + d] as number;
      sr += r * r;
      sd += r * (delta[d] as number);
      q[d] = (q[d] as number) + alpha * r;
    }
    rr[a] = sr;
    rd[a] = sd;
  }
  let qq = 0;
  let qi = 0;
  let qj = 0;
  for (let d = 0; d < dim; d++) {
    const x = q[d] as number;
    qq += x * x;
    qi += x * (V[io + d] as number);
    qj += x * (V[jo + d] as number);
  }
  const diff = bias + qi - qj;
  scratch.diff = diff;
  if (!Number.isFinite(diff)) return Number.NaN;
  const c = weight * sigmoid(-diff);
  const dd = Math.max(0, ii - 2 * ij + jj);
  const ni = Math.max(0, c * c * qq - 2 * c * l2 * qi + l2 * l2 * ii);
  const nj = Math.max(0, c * c * qq + 2 * c * l2 * qj + l2 * l2 * jj);
  const nu = Math.max(0, c * c * dd - 2 * c * l2 * (ui - uj) + l2 * l2 * uu);
  if (!Number.isFinite(ni) || !Number.isFinite(nj) || !Number.isFinite(nu)) return Number.NaN;
  const max = config.maxNorm;
  const si = stepSize(rows.itemAccum, item, ni, dim, config);
  const sj = stepSize(rows.itemAccum, negative, nj, dim, config);
  const su = stepSize(rows.userAccum, user, nu, dim, config);
  const fi = capFactor(ii - 2 * si * (l2 * ii - c * qi) + si * si * ni, max);
  const fj = capFactor(jj - 2 * sj * (c * qj + l2 * jj) + sj * sj * nj, max);
  const fu = capFactor(uu - 2 * su * (l2 * uu - c * (ui - uj)) + su * su * nu, max);
  const ai = fi * (1 - si * l2);
  const bi = fi * si * c;
  const aj = fj * (1 - sj * l2);
  const bj = -fj * sj * c;
  const au = fu * (1 - su * l2);
  const bu = fu * su * c;
  // Pass 2: the two items from the query, the user from the difference.
  for (let d = 0; d < dim; d++) {
    const x = q[d] as number;
    V[io + d] = ai * (V[io + d] as number) + bi * x;
    V[jo + d] = aj * (V[jo + d] as number) + bj * x;
    U[uo + d] = au * (U[uo + d] as number) + bu * (delta[d] as number);
  }
  // The context rows, each from the difference with its share.
  for (let a = 0; a < k; a++) {
    const alpha = context.alpha[a] as number;
    const ac = alpha * c;
    const na = Math.max(0, ac * ac * dd - 2 * ac * l2 * (rd[a] as number) + l2 * l2 * (rr[a] as number));
    const R = context.vectors[a] as Float32Array;
    const row = context.index[a] as number;
    const s = stepSize(context.accum[a] as Float32Array, row, na, dim, config);
    const f = capFactor(
      (rr[a] as number) - 2 * s * (l2 * (rr[a] as number) - ac * (rd[a] as number)) + s * s * na,
      max,
    );
    const ar = f * (1 - s * l2);
    const br = f * s * ac;
    const ro = row * dim;
    for (let d = 0; d < dim; d++) R[ro + d] = ar * (R[ro + d] as number) + br * (delta[d] as number);
  }
  return c;
}
