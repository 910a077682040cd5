import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  itemFirstLayer,
  scoreCandidates,
  towerSize,
  unflattenTower,
  type TowerShape,
} from '../../../shared/model/neumf/js-forward.ts';
import { SimdTower, simdTowerSupported } from '../../../shared/model/neumf/tower-simd.ts';
import { Random } from '../../../shared/model/random.ts';

/** Deterministic pseudo-random values in [-1, 1). */
function values(seed: number, n: number): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: n }, () => 2 * random.next() - 1);
}

describe('SimdTower (WebAssembly SIMD dense layers)', () => {
  it('gives the logits of the plain JavaScript tower (f32 rounding apart) for any shape it accepts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(
          fc.integer({ min: 1, max: 5 }).map((q) => 4 * q),
          { minLength: 1, maxLength: 3 },
        ),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (gmfDim, mlpDim, hidden, contextWidth, count, seed) => {
          const shape: TowerShape = { gmfDim, mlpDim, contextWidth, hidden };
          const weights = unflattenTower(shape, values(seed, towerSize(shape)));
          const userGmf = values(seed + 1, gmfDim);
          const userMlp = values(seed + 2, mlpDim);
          const context = values(seed + 3, contextWidth);
          const gmf = Array.from({ length: count }, (_, k) => values(seed + 10 + k, gmfDim));
          const mlp = Array.from({ length: count }, (_, k) => values(seed + 100 + k, mlpDim));
          const first = mlp.map((row) => {
            const out = new Float32Array(hidden[0] as number);
            itemFirstLayer(shape, weights, row, out);
            return out;
          });
          const want = scoreCandidates(
            shape,
            weights,
            userGmf,
            userMlp,
            context,
            count,
            (k) => gmf[k] as Float32Array,
            (k) => mlp[k] as Float32Array,
            new Float32Array(count),
          );
          // Flat tables, rows in reverse order, to check the row numbers are followed.
          const units0 = hidden[0] as number;
          const gmfTable = new Float32Array(count * gmfDim);
          const firstTable = new Float32Array(count * units0);
          const rows = Int32Array.from({ length: count }, (_, k) => count - 1 - k);
          rows.forEach((r, k) => {
            gmfTable.set(gmf[k] as Float32Array, r * gmfDim);
            firstTable.set(first[k] as Float32Array, r * units0);
          });
          const tower = new SimdTower(shape, weights);
          const run = () =>
            tower.score(
              userGmf,
              userMlp,
              context,
              count,
              gmfTable,
              rows,
              firstTable,
              rows,
              new Float32Array(count),
            );
          const got = run();
          for (let k = 0; k < count; k++) {
            const scale = Math.max(1, Math.abs(want[k] as number));
            expect(Math.abs((got[k] as number) - (want[k] as number)) / scale).toBeLessThan(1e-4);
          }
          // The same tower again: the scratch of the first call leaves no trace.
          expect(Array.from(run())).toEqual(Array.from(got));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses widths that are not multiples of 4 (those run in plain JavaScript)', () => {
    const shape: TowerShape = { gmfDim: 2, mlpDim: 2, contextWidth: 0, hidden: [4, 2] };
    const weights = unflattenTower(shape, values(1, towerSize(shape)));
    expect(simdTowerSupported(weights)).toBe(false);
    expect(() => new SimdTower(shape, weights)).toThrow(RangeError);
    const fits: TowerShape = { ...shape, hidden: [8, 4] };
    expect(simdTowerSupported(unflattenTower(fits, values(1, towerSize(fits))))).toBe(true);
  });
});
