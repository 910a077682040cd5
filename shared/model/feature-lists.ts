import { addRowMean } from './composite.ts';
import type { EmbeddingTable } from './embedding-table.ts';
import type { Feature } from './features.ts';
import type { FeatureListsState, HybridMfConfig } from './hybrid-mf-config.ts';
import { updateRow, updateScalar } from './optimizer.ts';

/**
 * Per row of an id table (users, or items): the indices of its feature rows and their weights
 * (`undefined`: no features). The row's composite vector is its id row plus the weighted mean of
 * its feature rows.
 */
export class FeatureLists {
  readonly ids: (Int32Array | undefined)[] = [];
  readonly weights: (Float32Array | undefined)[] = [];

  /** Sets (replaces) the features of `index`, creating their rows in `table`. */
  set(table: EmbeddingTable, index: number, features: readonly Feature[]): void {
    if (features.length === 0) {
      this.ids[index] = undefined;
      this.weights[index] = undefined;
      return;
    }
    this.ids[index] = Int32Array.from(features, (f) => table.ensure(f.key));
    this.weights[index] = Float32Array.from(features, (f) => f.weight);
  }

  /** The features of `index` by key. */
  list(table: EmbeddingTable, index: number): { keys: string[]; weights: number[] } {
    const feats = this.ids[index];
    const weights = this.weights[index];
    if (feats === undefined || weights === undefined) return { keys: [], weights: [] };
    return { keys: Array.from(feats, (f) => table.idAt(f)), weights: Array.from(weights) };
  }

  /** The composite vector of `index` into `out`: its id row plus the mean of its feature rows. */
  composite(ids: EmbeddingTable, features: EmbeddingTable, index: number, out: Float32Array): Float32Array {
    const dim = ids.dim;
    out.set(ids.vectors.subarray(index * dim, (index + 1) * dim));
    const feats = this.ids[index];
    const weights = this.weights[index];
    if (feats !== undefined && weights !== undefined)
      addRowMean(out, features.vectors, feats, weights, 0, feats.length, dim);
    return out;
  }

  /**
   * Applies `scale * grad` (from `gradOffset`) to the composite row of `index`: its id row (and
   * bias, by `biasGrad`) and its feature rows, each by its share (the composite holds their mean).
   */
  update(
    ids: EmbeddingTable,
    features: EmbeddingTable,
    index: number,
    grad: Float32Array,
    gradOffset: number,
    scale: number,
    biasGrad: number,
    config: Pick<HybridMfConfig, 'optimizer' | 'biasOptimizer' | 'l2Bias'>,
  ): void {
    const { optimizer } = config;
    const dim = ids.dim;
    updateRow(ids.vectors, ids.accum, index, grad, scale, dim, optimizer, gradOffset);
    if (biasGrad !== 0)
      updateScalar(ids.biases, ids.biasAccum, index, biasGrad, config.biasOptimizer, config.l2Bias);
    const feats = this.ids[index];
    const weights = this.weights[index];
    if (feats !== undefined && weights !== undefined) {
      const share = scale / feats.length;
      for (let k = 0; k < feats.length; k++) {
        const f = feats[k] as number;
        updateRow(
          features.vectors,
          features.accum,
          f,
          grad,
          share * (weights[k] as number),
          dim,
          optimizer,
          gradOffset,
        );
        features.markDirty(f, 0);
      }
    }
  }

  /** The lists of the first `rows` rows, concatenated with offsets (checkpoints). */
  pack(rows: number): FeatureListsState {
    const offsets = new Int32Array(rows + 1);
    let total = 0;
    for (let r = 0; r < rows; r++) {
      total += this.ids[r]?.length ?? 0;
      offsets[r + 1] = total;
    }
    const features = new Int32Array(total);
    const w = new Float32Array(total);
    for (let r = 0; r < rows; r++) {
      const list = this.ids[r];
      if (list !== undefined) {
        features.set(list, offsets[r] as number);
        w.set(this.weights[r] as Float32Array, offsets[r] as number);
      }
    }
    return { offsets, features, weights: w };
  }

  /** Replaces every list with those of a packed state. */
  restore(state: FeatureListsState): void {
    this.ids.length = 0;
    this.weights.length = 0;
    for (let r = 0; r + 1 < state.offsets.length; r++) {
      const from = state.offsets[r] as number;
      const to = state.offsets[r + 1] as number;
      this.ids[r] = to > from ? state.features.slice(from, to) : undefined;
      this.weights[r] = to > from ? state.weights.slice(from, to) : undefined;
    }
  }
}
