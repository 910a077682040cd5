/**
 * Row-wise optimizers for sparse embedding rows (DESIGN.md: rows live in typed arrays, each step
 * updates only the rows it touched). Pure functions over flat arrays: no allocation on the hot
 * path.
 *
 * `adagrad` is row-wise Adagrad (as in FBGEMM/DLRM and TF's row-wise variant): one accumulator per
 * row holding the sum of the mean squared gradient, so a row's step is lr / sqrt(accumulator).
 * It adapts per row (rare ids keep large steps, frequent ones settle), costs one float per row
 * instead of one per element, and one square root per update instead of one per element.
 */
export interface RowOptimizerConfig {
  readonly kind: 'sgd' | 'adagrad';
  readonly learningRate: number;
  /** L2 penalty on the row's values, added to the gradient. */
  readonly l2: number;
  /** Rescale a row's gradient to at most this norm (0: no clipping). */
  readonly clipNorm: number;
  /** Rescale a row to at most this norm after the update (0: no cap). */
  readonly maxNorm: number;
  /** Adagrad's stabiliser. */
  readonly epsilon: number;
  /** Adagrad's starting accumulator value (keeps the first steps from being huge). */
  readonly initialAccumulator: number;
}

export const DEFAULT_ROW_OPTIMIZER: RowOptimizerConfig = {
  kind: 'adagrad',
  learningRate: 0.05,
  l2: 0,
  clipNorm: 0,
  maxNorm: 0,
  epsilon: 1e-8,
  initialAccumulator: 0.1,
};

/**
 * Applies the gradient `scale * grad[gradOffset ..]` (plus L2) to row `row` of `values`
 * (row-major, `dim` columns); `accum` holds one Adagrad accumulator per row. The gradient may be
 * another row of the same or another table (a model's row used as the gradient direction). Returns false, changing nothing, when
 * the gradient is not finite.
 */
export function updateRow(
  values: Float32Array,
  accum: Float32Array,
  row: number,
  grad: Float32Array,
  scale: number,
  dim: number,
  config: RowOptimizerConfig,
  gradOffset = 0,
): boolean {
  const offset = row * dim;
  const l2 = config.l2;
  let norm2 = 0;
  for (let d = 0; d < dim; d++) {
    const g = scale * (grad[gradOffset + d] as number) + l2 * (values[offset + d] as number);
    norm2 += g * g;
  }
  if (!Number.isFinite(norm2)) return false;
  let step = config.learningRate;
  if (config.clipNorm > 0 && norm2 > config.clipNorm * config.clipNorm) {
    const clip = config.clipNorm / Math.sqrt(norm2);
    step *= clip;
    norm2 = config.clipNorm * config.clipNorm;
  }
  if (config.kind === 'adagrad') {
    const a = (accum[row] as number) + norm2 / dim;
    accum[row] = a;
    step /= Math.sqrt(a + config.initialAccumulator) + config.epsilon;
  }
  let after2 = 0;
  for (let d = 0; d < dim; d++) {
    const i = offset + d;
    const v = values[i] as number;
    const next = v - step * (scale * (grad[gradOffset + d] as number) + l2 * v);
    values[i] = next;
    after2 += next * next;
  }
  if (config.maxNorm > 0 && after2 > config.maxNorm * config.maxNorm) {
    const shrink = config.maxNorm / Math.sqrt(after2);
    for (let d = 0; d < dim; d++) values[offset + d] = (values[offset + d] as number) * shrink;
  }
  return true;
}

/** Applies a scalar gradient (a bias) with the same rules. */
export function updateScalar(
  values: Float32Array,
  accum: Float32Array,
  index: number,
  grad: number,
  config: RowOptimizerConfig,
  l2: number,
): void {
  const v = values[index] as number;
  let g = grad + l2 * v;
  if (!Number.isFinite(g)) return;
  if (config.clipNorm > 0 && Math.abs(g) > config.clipNorm) g = Math.sign(g) * config.clipNorm;
  if (config.kind === 'adagrad') {
    const a = (accum[index] as number) + g * g;
    accum[index] = a;
    values[index] =
      v - (config.learningRate * g) / (Math.sqrt(a + config.initialAccumulator) + config.epsilon);
  } else {
    values[index] = v - config.learningRate * g;
  }
}
