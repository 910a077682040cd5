import { describe, expect, it } from 'vitest';
import { updateRow, updateScalar, type RowOptimizerConfig } from '../../../shared/model/optimizer.ts';

const sgd = (over: Partial<RowOptimizerConfig> = {}): RowOptimizerConfig => ({
  kind: 'sgd',
  learningRate: 0.1,
  l2: 0,
  clipNorm: 0,
  maxNorm: 0,
  epsilon: 0,
  initialAccumulator: 0,
  ...over,
});

describe('row optimizers', () => {
  it('SGD with L2: v - lr * (scale * g + l2 * v)', () => {
    // g = 2 * [0.5, -1] + 0.1 * [1, 2] = [1.1, -1.8]; v' = [1 - 0.11, 2 + 0.18] = [0.89, 2.18]
    const values = Float32Array.of(9, 9, 1, 2);
    expect(updateRow(values, new Float32Array(2), 1, Float32Array.of(0.5, -1), 2, 2, sgd({ l2: 0.1 }))).toBe(
      true,
    );
    expect(values[0]).toBe(9);
    expect(values[2]).toBeCloseTo(0.89, 6);
    expect(values[3]).toBeCloseTo(2.18, 6);
  });

  it('row-wise Adagrad: one accumulator per row of mean squared gradients', () => {
    // g = [3, 4]: mean square = 25 / 2 = 12.5; step = 0.5 / sqrt(12.5) = 0.1414214
    // v' = [1 - 0.4242641, 2 - 0.5656854]; then accumulator 25, step 0.5 / 5 = 0.1
    const values = Float32Array.of(1, 2);
    const accum = new Float32Array(1);
    const config = sgd({ kind: 'adagrad', learningRate: 0.5 });
    updateRow(values, accum, 0, Float32Array.of(3, 4), 1, 2, config);
    expect(accum[0]).toBeCloseTo(12.5, 6);
    expect(values[0]).toBeCloseTo(0.5757359, 6);
    expect(values[1]).toBeCloseTo(1.4343146, 6);
    updateRow(values, accum, 0, Float32Array.of(3, 4), 1, 2, config);
    expect(values[0]).toBeCloseTo(0.2757359, 6);
    expect(values[1]).toBeCloseTo(1.0343146, 6);
  });

  it('clips the gradient norm and caps the row norm', () => {
    // |[3, 4]| = 5 > 1: gradient becomes [0.6, 0.8]; with lr 1: [1, 2] - [0.6, 0.8] = [0.4, 1.2]
    const values = Float32Array.of(1, 2);
    updateRow(
      values,
      new Float32Array(1),
      0,
      Float32Array.of(3, 4),
      1,
      2,
      sgd({ learningRate: 1, clipNorm: 1 }),
    );
    expect(values[0]).toBeCloseTo(0.4, 6);
    expect(values[1]).toBeCloseTo(1.2, 6);
    // A row of norm 5 with maxNorm 1 is rescaled to [0.6, 0.8].
    const big = Float32Array.of(3, 4);
    updateRow(big, new Float32Array(1), 0, Float32Array.of(0, 0), 1, 2, sgd({ maxNorm: 1 }));
    expect(big[0]).toBeCloseTo(0.6, 6);
    expect(big[1]).toBeCloseTo(0.8, 6);
  });

  it('rejects a non-finite gradient without changing anything', () => {
    const values = Float32Array.of(1, 2);
    const accum = Float32Array.of(0.5);
    expect(updateRow(values, accum, 0, Float32Array.of(Number.NaN, 0), 1, 2, sgd({ kind: 'adagrad' }))).toBe(
      false,
    );
    expect(updateRow(values, accum, 0, Float32Array.of(1, 1), Number.POSITIVE_INFINITY, 2, sgd())).toBe(
      false,
    );
    expect(Array.from(values)).toEqual([1, 2]);
    expect(accum[0]).toBe(0.5);
  });

  it('reads the gradient at an offset (another row used as the direction)', () => {
    const values = Float32Array.of(1, 1);
    updateRow(
      values,
      new Float32Array(1),
      0,
      Float32Array.of(7, 7, 1, -1),
      1,
      2,
      sgd({ learningRate: 1 }),
      2,
    );
    expect(Array.from(values)).toEqual([0, 2]);
  });

  it('updates a scalar (bias) with SGD and Adagrad', () => {
    const b = Float32Array.of(0.5);
    updateScalar(b, new Float32Array(1), 0, 2, sgd(), 0.5); // g = 2 + 0.25 = 2.25; 0.5 - 0.225
    expect(b[0]).toBeCloseTo(0.275, 6);
    const a = Float32Array.of(0);
    const acc = new Float32Array(1);
    updateScalar(a, acc, 0, 2, sgd({ kind: 'adagrad', learningRate: 1 }), 0); // 0 - 1 * 2 / sqrt(4)
    expect(a[0]).toBeCloseTo(-1, 6);
    expect(acc[0]).toBe(4);
  });
});
