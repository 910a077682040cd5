import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import usearch, { type Index as UsearchIndex } from 'usearch';

/** HNSW parameters (usearch): graph degree and the beam widths of construction and search. */
export interface AnnParams {
  readonly connectivity: number;
  readonly expansionAdd: number;
  readonly expansionSearch: number;
  /** Threads the build may use (the serving process keeps the other cores). */
  readonly threads: number;
}

/**
 * Measured on 100,000 64-d items shaped like trained MF rows (bench/serving.ts `embedding`), with
 * the serving path (100 ANN candidates re-scored exactly, top 10): degree 16, build beam 128 and
 * search beam 256 find 98.5% of the true top 10, with a build a third shorter than degree 32 and
 * beam 200 (99.0%); degree 16 with beams 64/128 finds 94.2%. iid Gaussian vectors, which no
 * trained model produces, defeat every setting (37% and 63% at the two larger ones).
 */
export const DEFAULT_ANN_PARAMS: AnnParams = {
  connectivity: 16,
  expansionAdd: 128,
  expansionSearch: 256,
  threads: 1,
};

/**
 * Maximum-inner-product search as nearest-neighbour search (Bachrach et al., 2014): item i becomes
 * x_i = [v_i, b_i, sqrt(M^2 - |v_i|^2 - b_i^2)] with M the largest norm of [v_i, b_i], and a query
 * u becomes q = [u, 1, 0]. Every x_i has norm M, so the cosine of q and x_i orders items exactly by
 * u . v_i + b_i, and HNSW over cosine (where it works well) finds the best inner products.
 */
/** The HNSW index both the builder (ann-worker.ts) and the reader open: cosine over float32. */
export function newUsearchIndex(dimensions: number, params: AnnParams): UsearchIndex {
  return new usearch.Index({
    dimensions,
    metric: usearch.MetricKind.Cos,
    quantization: usearch.ScalarKind.F32,
    connectivity: params.connectivity,
    expansion_add: params.expansionAdd,
    expansion_search: params.expansionSearch,
    multi: false,
  });
}

export function mipsTransform(
  vectors: Float32Array,
  biases: Float32Array,
  count: number,
  dim: number,
): Float32Array {
  const width = dim + 2;
  const out = new Float32Array(count * width);
  let max = 0;
  const norms = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let sum = (biases[i] as number) ** 2;
    for (let d = 0; d < dim; d++) sum += (vectors[i * dim + d] as number) ** 2;
    norms[i] = sum;
    if (sum > max) max = sum;
  }
  for (let i = 0; i < count; i++) {
    out.set(vectors.subarray(i * dim, (i + 1) * dim), i * width);
    out[i * width + dim] = biases[i] as number;
    out[i * width + dim + 1] = Math.sqrt(Math.max(0, max - (norms[i] as number)));
  }
  return out;
}

/** The query of mipsTransform: [u, 1, 0] (or [u, 0, 0] to leave biases out). */
export function mipsQuery(query: Float32Array, withBias = true): Float32Array {
  const out = new Float32Array(query.length + 2);
  out.set(query);
  out[query.length] = withBias ? 1 : 0;
  return out;
}

/**
 * An HNSW index over a snapshot of the item matrix. It is built in a worker thread (a build of a
 * million items takes about a minute: the event loop must keep answering requests meanwhile),
 * saved to a temporary file and memory-mapped here, so swapping it in is instant.
 */
export class AnnIndex {
  readonly count: number;
  readonly dim: number;
  readonly #index: UsearchIndex;
  readonly #dir: string;

  private constructor(index: UsearchIndex, count: number, dim: number, dir: string) {
    this.#index = index;
    this.count = count;
    this.dim = dim;
    this.#dir = dir;
  }

  /** Builds the index of items 0..count-1 (keys are the item positions). */
  static async build(
    vectors: Float32Array,
    biases: Float32Array,
    count: number,
    dim: number,
    params: AnnParams = DEFAULT_ANN_PARAMS,
  ): Promise<AnnIndex> {
    const transformed = mipsTransform(vectors, biases, count, dim);
    const dir = mkdtempSync(join(tmpdir(), 'recsys-ann-'));
    const file = join(dir, 'index.usearch');
    try {
      await new Promise<void>((resolve, reject) => {
        const worker = new Worker(new URL('./ann-worker.ts', import.meta.url), {
          workerData: { vectors: transformed, count, width: dim + 2, params, file },
          transferList: [transformed.buffer as ArrayBuffer],
        });
        worker.once('message', () => resolve());
        worker.once('error', reject);
        worker.once('exit', (code) => {
          if (code !== 0) reject(new Error(`the ANN build worker exited with code ${code}`));
        });
      });
      const index = newUsearchIndex(dim + 2, params);
      index.view(file);
      return new AnnIndex(index, count, dim, dir);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Positions of (about) the k items with the largest u . v + b. */
  search(query: Float32Array, k: number, withBias = true): Int32Array {
    const wanted = Math.min(k, this.count);
    if (wanted <= 0) return new Int32Array(0);
    const matches = this.#index.search(mipsQuery(query, withBias), wanted, 1);
    return Int32Array.from(matches.keys, (key) => Number(key));
  }

  /** Frees the mapped file. */
  close(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
