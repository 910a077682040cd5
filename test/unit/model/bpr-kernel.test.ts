import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bprDots, bprStepContext, bprStepPlain } from '../../../shared/model/bpr-kernel.ts';
import { sigmoid } from '../../../shared/model/math.ts';
import { updateRow, type RowOptimizerConfig } from '../../../shared/model/optimizer.ts';

/**
 * The fused BPR step must do what three unfused row updates do (optimizer.ts), with every
 * gradient taken from the values before the step:
 *   g_i = -c u + l2 v_i,  g_j = c u + l2 v_j,  g_u = -c (v_i - v_j) + l2 u.
 */
function unfused(
  u: Float32Array,
  v: Float32Array,
  ua: Float32Array,
  va: Float32Array,
  c: number,
  dim: number,
  config: RowOptimizerConfig,
): void {
  const user = u.slice(0, dim);
  const diff = Float32Array.from({ length: dim }, (_, d) => (v[d] as number) - (v[dim + d] as number));
  updateRow(v, va, 0, user, -c, dim, config);
  updateRow(v, va, 1, user, c, dim, config);
  updateRow(u, ua, 0, diff, -c, dim, config);
}

const value = fc.float({ min: -2, max: 2, noNaN: true, noDefaultInfinity: true });

describe('the fused BPR kernel', () => {
  it('equals three unfused row updates, for SGD and Adagrad, with L2, clipping and max-norm', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }).chain((dim) =>
          fc.record({
            dim: fc.constant(dim),
            u: fc.array(value, { minLength: dim, maxLength: dim }),
            vi: fc.array(value, { minLength: dim, maxLength: dim }),
            vj: fc.array(value, { minLength: dim, maxLength: dim }),
            c: fc.double({ min: 0, max: 1, noNaN: true }),
            kind: fc.constantFrom('sgd' as const, 'adagrad' as const),
            lr: fc.double({ min: 0.001, max: 0.5, noNaN: true }),
            l2: fc.constantFrom(0, 0.001, 0.05),
            clipNorm: fc.constantFrom(0, 0.5, 5),
            maxNorm: fc.constantFrom(0, 0.5, 1, 10),
            accum: fc.double({ min: 0, max: 3, noNaN: true }),
          }),
        ),
        (p) => {
          const config: RowOptimizerConfig = {
            kind: p.kind,
            learningRate: p.lr,
            l2: p.l2,
            clipNorm: p.clipNorm,
            maxNorm: p.maxNorm,
            epsilon: 1e-8,
            initialAccumulator: 0.1,
          };
          const u1 = Float32Array.from(p.u);
          const v1 = Float32Array.from([...p.vi, ...p.vj]);
          const ua1 = Float32Array.of(p.accum);
          const va1 = Float32Array.of(p.accum, p.accum / 2);
          const u2 = u1.slice();
          const v2 = v1.slice();
          const ua2 = ua1.slice();
          const va2 = va1.slice();
          unfused(u1, v1, ua1, va1, p.c, p.dim, config);
          const rows = { users: u2, userAccum: ua2, items: v2, itemAccum: va2, dim: p.dim };
          const dots = bprDots(rows, 0, 0, 1, { uu: 0, ii: 0, jj: 0, ui: 0, uj: 0, ij: 0 });
          expect(bprStepPlain(rows, 0, 0, 1, p.c, dots, config)).toBe(true);
          for (let d = 0; d < p.dim; d++) expect(u2[d]).toBeCloseTo(u1[d] as number, 4);
          for (let d = 0; d < 2 * p.dim; d++) expect(v2[d]).toBeCloseTo(v1[d] as number, 4);
          expect(ua2[0]).toBeCloseTo(ua1[0] as number, 4);
          expect(va2[0]).toBeCloseTo(va1[0] as number, 4);
          expect(va2[1]).toBeCloseTo(va1[1] as number, 4);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('computes the six dot products of its rows', () => {
    // u = [1, 2], v_i = [3, -1], v_j = [0, 4]
    const rows = {
      users: Float32Array.of(9, 9, 1, 2),
      userAccum: new Float32Array(2),
      items: Float32Array.of(3, -1, 0, 4),
      itemAccum: new Float32Array(2),
      dim: 2,
    };
    const dots = bprDots(rows, 1, 0, 1, { uu: 0, ii: 0, jj: 0, ui: 0, uj: 0, ij: 0 });
    expect(dots).toEqual({ uu: 5, ii: 10, jj: 16, ui: 1, uj: 8, ij: -4 });
  });

  it('changes nothing when a gradient norm is not finite', () => {
    const rows = {
      users: Float32Array.of(1, 1),
      userAccum: new Float32Array(1),
      items: Float32Array.of(1, 1, 2, 2),
      itemAccum: new Float32Array(2),
      dim: 2,
    };
    const dots = { uu: Number.POSITIVE_INFINITY, ii: 2, jj: 8, ui: 2, uj: 4, ij: 4 };
    const config: RowOptimizerConfig = {
      kind: 'adagrad',
      learningRate: 0.1,
      l2: 0,
      clipNorm: 0,
      maxNorm: 0,
      epsilon: 1e-8,
      initialAccumulator: 0.1,
    };
    expect(bprStepPlain(rows, 0, 0, 1, 0.5, dots, config)).toBe(false);
    expect(Array.from(rows.users)).toEqual([1, 1]);
    expect(Array.from(rows.items)).toEqual([1, 1, 2, 2]);
    expect(Array.from(rows.itemAccum)).toEqual([0, 0]);
  });

  it('with context rows, equals the unfused updates of both items, the user and each context row', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }).chain((dim) =>
          fc.record({
            dim: fc.constant(dim),
            rows: fc.array(fc.array(value, { minLength: dim, maxLength: dim }), {
              minLength: 7,
              maxLength: 7,
            }),
            shared: fc.integer({ min: 0, max: 3 }),
            crosses: fc.integer({ min: 0, max: 1 }),
            bias: fc.double({ min: -1, max: 1, noNaN: true }),
            weight: fc.constantFrom(1, 2.5),
            kind: fc.constantFrom('sgd' as const, 'adagrad' as const),
            lr: fc.double({ min: 0.001, max: 0.5, noNaN: true }),
            l2: fc.constantFrom(0, 0.01),
            clipNorm: fc.constantFrom(0, 5),
            maxNorm: fc.constantFrom(0, 1, 2),
          }),
        ),
        (p) => {
          const config: RowOptimizerConfig = {
            kind: p.kind,
            learningRate: p.lr,
            l2: p.l2,
            clipNorm: p.clipNorm,
            maxNorm: p.maxNorm,
            epsilon: 1e-8,
            initialAccumulator: 0.1,
          };
          const dim = p.dim;
          const [u0, vi0, vj0, ...ctx0] = p.rows as number[][];
          const k = p.shared + p.crosses;
          const alpha = [
            ...Array(p.shared).fill(1 / Math.max(1, p.shared)),
            ...Array(p.crosses).fill(1 / Math.max(1, p.crosses)),
          ] as number[];
          // Unfused: the query and the score from the values before the step, then updateRow per row.
          const u1 = Float32Array.from(u0 as number[]);
          const v1 = Float32Array.from([...(vi0 as number[]), ...(vj0 as number[])]);
          const r1 = Float32Array.from(ctx0.slice(0, k).flat());
          const ua1 = Float32Array.of(0.3);
          const va1 = Float32Array.of(0.2, 0.1);
          const ra1 = new Float32Array(Math.max(1, k)).fill(0.05);
          const q = Float32Array.from({ length: dim }, (_, d) => {
            let x = u1[d] as number;
            for (let a = 0; a < k; a++) x += (alpha[a] as number) * (r1[a * dim + d] as number);
            return x;
          });
          const delta = Float32Array.from(
            { length: dim },
            (_, d) => (v1[d] as number) - (v1[dim + d] as number),
          );
          let diff = p.bias;
          for (let d = 0; d < dim; d++) diff += (q[d] as number) * (delta[d] as number);
          const c = p.weight * sigmoid(-diff);
          updateRow(v1, va1, 0, q, -c, dim, config);
          updateRow(v1, va1, 1, q, c, dim, config);
          updateRow(u1, ua1, 0, delta, -c, dim, config);
          for (let a = 0; a < k; a++) updateRow(r1, ra1, a, delta, -c * (alpha[a] as number), dim, config);
          // Fused.
          const u2 = Float32Array.from(u0 as number[]);
          const v2 = Float32Array.from([...(vi0 as number[]), ...(vj0 as number[])]);
          const r2 = Float32Array.from(ctx0.slice(0, k).flat());
          const ua2 = Float32Array.of(0.3);
          const va2 = Float32Array.of(0.2, 0.1);
          const ra2 = new Float32Array(Math.max(1, k)).fill(0.05);
          const scratch = {
            q: new Float32Array(0),
            delta: new Float32Array(0),
            rr: new Float64Array(0),
            rd: new Float64Array(0),
            diff: 0,
          };
          const got = bprStepContext(
            { users: u2, userAccum: ua2, items: v2, itemAccum: va2, dim },
            0,
            0,
            1,
            {
              count: k,
              vectors: Array(k).fill(r2) as Float32Array[],
              accum: Array(k).fill(ra2) as Float32Array[],
              index: Int32Array.from({ length: k }, (_, a) => a),
              alpha: Float64Array.from(alpha),
            },
            scratch,
            p.bias,
            p.weight,
            config,
          );
          expect(got).toBeCloseTo(c, 6);
          expect(scratch.diff).toBeCloseTo(diff, 5);
          for (let d = 0; d < dim; d++) expect(u2[d]).toBeCloseTo(u1[d] as number, 4);
          for (let d = 0; d < 2 * dim; d++) expect(v2[d]).toBeCloseTo(v1[d] as number, 4);
          for (let d = 0; d < k * dim; d++) expect(r2[d]).toBeCloseTo(r1[d] as number, 4);
          for (let a = 0; a < k; a++) expect(ra2[a]).toBeCloseTo(ra1[a] as number, 4);
          expect(ua2[0]).toBeCloseTo(ua1[0] as number, 4);
        },
      ),
      { numRuns: 500 },
    );
  });
});
