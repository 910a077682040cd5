/**
 * NeuMF's dense tower evaluated in plain JavaScript over typed arrays, for serving: scoring a
 * user's candidates needs no TF.js. The weights are the tower's variables flattened in
 * Tower.variables order ([W1, b1, ..., Wn, bn, Wout, bout], each row-major) as the trainer stores
 * them. The user's and the context's share of the first layer is computed once per request.
 */
export interface TowerShape {
  readonly gmfDim: number;
  readonly mlpDim: number;
  /** Width of the context part of the MLP input (fields * contextDim). */
  readonly contextWidth: number;
  readonly hidden: readonly number[];
}

export interface TowerWeights {
  readonly layers: {
    readonly kernel: Float32Array;
    readonly bias: Float32Array;
    readonly inputs: number;
    readonly units: number;
  }[];
  readonly outKernel: Float32Array;
  readonly outBias: number;
}

/** Number of values of a flattened tower of this shape. */
export function towerSize(shape: TowerShape): number {
  let inputs = 2 * shape.mlpDim + shape.contextWidth;
  let size = 0;
  for (const units of shape.hidden) {
    size += inputs * units + units;
    inputs = units;
  }
  return size + (shape.gmfDim + inputs) + 1;
}

/** Splits a flattened tower into its layers; throws when the size does not match the shape. */
export function unflattenTower(shape: TowerShape, flat: Float32Array): TowerWeights {
  if (flat.length !== towerSize(shape)) {
    throw new RangeError(`tower has ${flat.length} values, the shape needs ${towerSize(shape)}`);
  }
  let offset = 0;
  let inputs = 2 * shape.mlpDim + shape.contextWidth;
  const layers: TowerWeights['layers'][number][] = [];
  for (const units of shape.hidden) {
    const kernel = flat.subarray(offset, offset + inputs * units);
    offset += inputs * units;
    const bias = flat.subarray(offset, offset + units);
    offset += units;
    layers.push({ kernel, bias, inputs, units });
    inputs = units;
  }
  const outKernel = flat.subarray(offset, offset + shape.gmfDim + inputs);
  offset += shape.gmfDim + inputs;
  return { layers, outKernel, outBias: flat[offset] as number };
}

/**
 * An item's share of the first layer's pre-activation: its MLP row times the kernel rows that
 * read it (rows m..2m-1). It depends only on the item and the tower, so serving computes it once
 * per item and tower version (NeumfScorer) instead of once per request: it is almost half of a
 * candidate's arithmetic. Written into `out` (the first layer's width).
 */
export function itemFirstLayer(
  shape: TowerShape,
  weights: TowerWeights,
  itemMlp: ArrayLike<number>,
  out: Float32Array | Float64Array,
): void {
  const first = weights.layers[0];
  if (first === undefined) throw new RangeError('the tower has no hidden layer');
  const units = first.units;
  const m = shape.mlpDim;
  out.fill(0, 0, units);
  for (let i = 0; i < m; i++) {
    const x = itemMlp[i] as number;
    const row = (m + i) * units;
    for (let u = 0; u < units; u++) out[u] = (out[u] as number) + x * (first.kernel[row + u] as number);
  }
}

/**
 * The first layer's pre-activation from the user's and the context's inputs (kernel rows 0..m-1
 * and 2m..) plus its bias: the same for every candidate of a request.
 */
export function sharedFirstLayer(
  shape: TowerShape,
  weights: TowerWeights,
  userMlp: ArrayLike<number>,
  context: ArrayLike<number>,
): Float64Array {
  const first = weights.layers[0];
  if (first === undefined) throw new RangeError('the tower has no hidden layer');
  const units = first.units;
  const m = shape.mlpDim;
  const shared = Float64Array.from(first.bias);
  for (let i = 0; i < m; i++) {
    const x = userMlp[i] as number;
    if (x === 0) continue;
    const row = i * units;
    for (let u = 0; u < units; u++) shared[u] = (shared[u] as number) + x * (first.kernel[row + u] as number);
  }
  for (let i = 0; i < shape.contextWidth; i++) {
    const x = context[i] as number;
    if (x === 0) continue;
    const row = (2 * m + i) * units;
    for (let u = 0; u < units; u++) shared[u] = (shared[u] as number) + x * (first.kernel[row + u] as number);
  }
  return shared;
}

/**
 * Logits of `count` candidates for one user and context. `userGmf`, `userMlp` and `context` are
 * the user's rows and the context rows (concatenated); `itemGmf(k)` and `itemMlp(k)` give the
 * k-th candidate's rows, or `itemFirst(k)` its first-layer share (itemFirstLayer) when the caller
 * keeps those (then `itemMlp` is not asked). Writes into `out`.
 */
export function scoreCandidates(
  shape: TowerShape,
  weights: TowerWeights,
  userGmf: Float32Array,
  userMlp: Float32Array,
  context: Float32Array,
  count: number,
  itemGmf: (k: number) => Float32Array,
  itemMlp: (k: number) => Float32Array,
  out: Float32Array,
  itemFirst?: (k: number) => ArrayLike<number>,
): Float32Array {
  const first = weights.layers[0];
  if (first === undefined) throw new RangeError('the tower has no hidden layer');
  const units = first.units;
  const m = shape.mlpDim;
  const shared = sharedFirstLayer(shape, weights, userMlp, context);
  const widest = Math.max(...shape.hidden);
  let h = new Float64Array(widest);
  let next = new Float64Array(widest);
  for (let k = 0; k < count; k++) {
    if (itemFirst !== undefined) {
      const part = itemFirst(k);
      for (let u = 0; u < units; u++) h[u] = (shared[u] as number) + (part[u] as number);
    } else {
      const im = itemMlp(k);
      for (let u = 0; u < units; u++) h[u] = shared[u] as number;
      for (let i = 0; i < m; i++) {
        const x = im[i] as number;
        const row = (m + i) * units;
        for (let u = 0; u < units; u++) h[u] = (h[u] as number) + x * (first.kernel[row + u] as number);
      }
    }
    for (let u = 0; u < units; u++) if ((h[u] as number) < 0) h[u] = 0;
    let width = units;
    for (let l = 1; l < weights.layers.length; l++) {
      const layer = weights.layers[l] as TowerWeights['layers'][number];
      for (let u = 0; u < layer.units; u++) next[u] = layer.bias[u] as number;
      for (let i = 0; i < width; i++) {
        const x = h[i] as number;
        if (x === 0) continue;
        const row = i * layer.units;
        for (let u = 0; u < layer.units; u++)
          next[u] = (next[u] as number) + x * (layer.kernel[row + u] as number);
      }
      for (let u = 0; u < layer.units; u++) if ((next[u] as number) < 0) next[u] = 0;
      const swap = h;
      h = next;
      next = swap;
      width = layer.units;
    }
    const ig = itemGmf(k);
    let logit = weights.outBias;
    for (let d = 0; d < shape.gmfDim; d++)
      logit += (userGmf[d] as number) * (ig[d] as number) * (weights.outKernel[d] as number);
    for (let u = 0; u < width; u++)
      logit += (h[u] as number) * (weights.outKernel[shape.gmfDim + u] as number);
    out[k] = logit;
  }
  return out;
}
