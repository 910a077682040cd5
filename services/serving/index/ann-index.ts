import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import usearch, { type Index as UsearchIndex } from 'usearch';

/** HNSW parameters (usearch): graph degree, beam widths of construction and search, storage. */
export interface AnnParams {
  readonly connectivity: number;
  readonly expansionAdd: number;
  /** Search beam; 0: by catalog size (annSearchBeam). */
  readonly expansionSearch: number;
  /** How usearch stores the vectors it compares: i8 is a quarter of f32's memory traffic. */
  readonly quantization: 'f32' | 'f16' | 'i8';
  /** Threads the build may use (the serving process keeps the other cores). */
  readonly threads: number;
}

/**
 * Chosen on 64-d items shaped like trained MF rows, through the serving path (100 ANN candidates
 * re-scored exactly, top 10; docs/benchmarks.md "ANN parameters" has the table): i8 storage
 * (usearch scales each cosine-normalised vector to bytes; the exact re-score of the candidates
 * undoes the rounding) finds as much of the true top 10 as f32 and searches and builds faster,
 * and the search beam widens with the catalog (annSearchBeam) to keep recall@10 above 0.95 at a
 * million items. iid Gaussian vectors, which no trained model produces, defeat every setting.
 */
export const DEFAULT_ANN_PARAMS: AnnParams = {
  connectivity: 16,
  expansionAdd: 128,
  expansionSearch: 0,
  quantization: 'i8',
  threads: 1,
};

/** The search beam for a catalog of `count` items: 256 up to 250,000 items, 384 above. */
export function annSearchBeam(params: AnnParams, count: number): number {
  if (params.expansionSearch > 0) return params.expansionSearch;
  return count <= 250_000 ? 256 : 384;
}

const SCALARS = {
  f32: usearch.ScalarKind.F32,
  f16: usearch.ScalarKind.F16,
  i8: usearch.ScalarKind.I8,
} as const;

/**
 * Maximum-inner-product search as nearest-neighbour search (Bachrach et al., 2014): item i becomes
 * x_i = [v_i, b_i, sqrt(M^2 - |v_i|^2 - b_i^2)] with M the largest norm of [v_i, b_i], and a query
 * u becomes q = [u, 1, 0]. Every x_i has norm M, so the cosine of q and x_i orders items exactly by
 * u . v_i + b_i, and HNSW over cosine (where it works well) finds the best inner products.
 */
/** The HNSW index both the builder (ann-worker.ts) and the reader open: cosine, for `count` items. */
export function newUsearchIndex(dimensions: number, params: AnnParams, count: number): UsearchIndex {
  return new usearch.Index({
    dimensions,
    metric: usearch.MetricKind.Cos,
    quantization: SCALARS[params.quantization],
    connectivity: params.connectivity,
    expansion_add: params.expansionAdd,
    expansion_search: annSearchBeam(params, count),
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
 * million items takes minutes of a core: the event loop must keep answering requests meanwhile),
 * saved to a file and memory-mapped here, so swapping it in is instant. Another serving process
 * can map the same file (`open`, ann-share.ts): its keys are the builder's positions, which
 * `positions` translates to the opener's own.
 */
export class AnnIndex {
  /** Keys in the index (the builder's positions 0..count-1). */
  readonly count: number;
  readonly dim: number;
  readonly file: string;
  readonly #index: UsearchIndex;
  /** A temporary folder this index removes on close (undefined: a shared build, pruned by ann-share.ts). */
  readonly #owned: string | undefined;
  /** Key -> this process's position (-1: unknown here); undefined: keys are positions. */
  readonly #positions: Int32Array | undefined;

  private constructor(
    index: UsearchIndex,
    count: number,
    dim: number,
    file: string,
    owned: string | undefined,
    positions: Int32Array | undefined,
  ) {
    this.#index = index;
    this.count = count;
    this.dim = dim;
    this.file = file;
    this.#owned = owned;
    this.#positions = positions;
  }

  /**
   * Builds the index of items 0..count-1 (keys are the item positions), into `dir` when given (a
   * shared build's folder, which outlives this object) or else a temporary folder.
   */
  static async build(
    vectors: Float32Array,
    biases: Float32Array,
    count: number,
    dim: number,
    params: AnnParams = DEFAULT_ANN_PARAMS,
    dir?: string,
  ): Promise<AnnIndex> {
    const transformed = mipsTransform(vectors, biases, count, dim);
    const folder = dir ?? mkdtempSync(join(tmpdir(), 'recsys-ann-'));
    const file = join(folder, 'index.usearch');
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
      return AnnIndex.#view(file, count, dim, params, dir === undefined ? folder : undefined, undefined);
    } catch (error) {
      rmSync(folder, { recursive: true, force: true });
      throw error;
    }
  }

  /** Maps a build another process saved; `positions[key]` is this process's position of each key. */
  static open(file: string, count: number, dim: number, params: AnnParams, positions: Int32Array): AnnIndex {
    return AnnIndex.#view(file, count, dim, params, undefined, positions);
  }

  static #view(
    file: string,
    count: number,
    dim: number,
    params: AnnParams,
    owned: string | undefined,
    positions: Int32Array | undefined,
  ): AnnIndex {
    const index = newUsearchIndex(dim + 2, params, count);
    index.view(file);
    return new AnnIndex(index, count, dim, file, owned, positions);
  }

  /** Positions of (about) the k items with the largest u . v + b. */
  search(query: Float32Array, k: number, withBias = true): Int32Array {
    const wanted = Math.min(k, this.count);
    if (wanted <= 0) return new Int32Array(0);
    const matches = this.#index.search(mipsQuery(query, withBias), wanted, 1);
    // Keys are positions, or (a shared build) translated to this process's, -1 for unknown items.
    const positions = this.#positions;
    const out = new Int32Array(matches.keys.length);
    let n = 0;
    for (const key of matches.keys) {
      const p = positions === undefined ? Number(key) : (positions[Number(key)] as number);
      if (p >= 0) out[n++] = p;
    }
    return out.subarray(0, n);
  }

  /** Frees the mapped file (a temporary one is removed; a shared build stays for the others). */
  close(): void {
    if (this.#owned !== undefined) rmSync(this.#owned, { recursive: true, force: true });
  }
}
