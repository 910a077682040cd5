import { WASM_BASE64 } from '../wasm/dense.wasm.ts';
import { WASM_MAX_PAGES, ensureBytes, instantiate } from '../wasm/instantiate.ts';
import { sharedFirstLayer, type TowerShape, type TowerWeights } from './js-forward.ts';

interface Kernel {
  dense(
    x: number,
    count: number,
    inputs: number,
    kernel: number,
    units: number,
    bias: number,
    y: number,
    relu: number,
  ): void;
}

/** True when the tower's layers suit the SIMD kernel: every width a multiple of 4. */
export function simdTowerSupported(weights: TowerWeights): boolean {
  return weights.layers.every((layer) => layer.units % 4 === 0);
}

/**
 * NeuMF's MLP tower for a batch of candidates with WebAssembly SIMD (shared/model/wasm/dense.wat):
 * the layers after the first run over all candidates in one call each, in f32. The first layer
 * comes from the request's shared part plus each item's cached share (itemFirstLayer), as in
 * scoreCandidates, which stays the reference (and the path for widths that are not multiples of
 * 4); results agree with it to f32 rounding.
 *
 * Memory: the weights of the layers after the first, then the activations of one request.
 */
export class SimdTower {
  readonly #shape: TowerShape;
  readonly #weights: TowerWeights;
  readonly #memory = new WebAssembly.Memory({ initial: 1, maximum: WASM_MAX_PAGES });
  readonly #kernel: Kernel;
  /** Byte offsets of each layer's kernel and bias (index 0 unused: the first layer stays in JS). */
  readonly #at: { kernel: number; bias: number }[] = [];
  readonly #scratch: number;

  constructor(shape: TowerShape, weights: TowerWeights) {
    if (!simdTowerSupported(weights)) throw new RangeError('every tower width must be a multiple of 4');
    this.#shape = shape;
    this.#weights = weights;
    this.#kernel = instantiate<Kernel>(WASM_BASE64, this.#memory);
    let offset = 0;
    const place = (values: Float32Array): number => {
      const at = offset;
      ensureBytes(this.#memory, at + values.length * 4, 'the NeuMF tower');
      new Float32Array(this.#memory.buffer, at, values.length).set(values);
      offset += Math.ceil((values.length * 4) / 16) * 16;
      return at;
    };
    this.#at.push({ kernel: -1, bias: -1 });
    for (const layer of weights.layers.slice(1))
      this.#at.push({ kernel: place(layer.kernel), bias: place(layer.bias) });
    this.#scratch = offset;
  }

  /**
   * Logits of `count` candidates, into `out`. Candidate k's GMF row is row `gmfRows[k]` of
   * `gmfVectors` (gmfDim floats a row) and its first-layer share (itemFirstLayer) is row
   * `firstRows[k]` of `firstVectors` (the first layer's width a row): flat tables and row
   * numbers, so that no view is made per candidate.
   */
  score(
    userGmf: Float32Array,
    userMlp: Float32Array,
    context: Float32Array,
    count: number,
    gmfVectors: Float32Array,
    gmfRows: Int32Array,
    firstVectors: Float32Array,
    firstRows: Int32Array,
    out: Float32Array,
  ): Float32Array {
    const layers = this.#weights.layers;
    const shared = sharedFirstLayer(this.#shape, this.#weights, userMlp, context);
    // Activations of every layer, one after the other.
    const offsets: number[] = [];
    let end = this.#scratch;
    for (const layer of layers) {
      offsets.push(end);
      end += count * layer.units * 4;
    }
    ensureBytes(this.#memory, end, 'the NeuMF tower');
    const f32 = new Float32Array(this.#memory.buffer);
    const units0 = (layers[0] as TowerWeights['layers'][number]).units;
    const a0 = (offsets[0] as number) / 4;
    for (let k = 0; k < count; k++) {
      const part = (firstRows[k] as number) * units0;
      const base = a0 + k * units0;
      for (let u = 0; u < units0; u++) {
        const v = (shared[u] as number) + (firstVectors[part + u] as number);
        f32[base + u] = v < 0 ? 0 : v;
      }
    }
    for (let l = 1; l < layers.length; l++) {
      const layer = layers[l] as TowerWeights['layers'][number];
      const at = this.#at[l] as { kernel: number; bias: number };
      this.#kernel.dense(
        offsets[l - 1] as number,
        count,
        layer.inputs,
        at.kernel,
        layer.units,
        at.bias,
        offsets[l] as number,
        1,
      );
    }
    const width = (layers[layers.length - 1] as TowerWeights['layers'][number]).units;
    const last = (offsets[layers.length - 1] as number) / 4;
    const { outKernel, outBias } = this.#weights;
    const gmfDim = this.#shape.gmfDim;
    for (let k = 0; k < count; k++) {
      const ig = (gmfRows[k] as number) * gmfDim;
      let logit = outBias;
      for (let d = 0; d < gmfDim; d++)
        logit += (userGmf[d] as number) * (gmfVectors[ig + d] as number) * (outKernel[d] as number);
      const base = last + k * width;
      for (let u = 0; u < width; u++) logit += (f32[base + u] as number) * (outKernel[gmfDim + u] as number);
      out[k] = logit;
    }
    return out;
  }
}
