/**
 * Top-k selection over scores. `TopK` is the interface the serving path uses; `BruteForceTopK`
 * scans every item (fine for small catalogs); an ANN index implements the same interface for
 * large ones.
 */
export interface TopKResult {
  readonly indices: Int32Array;
  readonly scores: Float32Array;
}

/**
 * Indices of the `k` highest scores, best first, skipping indices for which `skip` returns true.
 * A bounded min-heap: O(n log k). Ties keep the lower index first (deterministic).
 */
export function selectTopK(
  scores: ArrayLike<number>,
  k: number,
  count = scores.length,
  skip?: (index: number) => boolean,
): TopKResult {
  const heapIdx = new Int32Array(Math.max(0, k));
  const heapVal = new Float64Array(Math.max(0, k));
  let size = 0;
  const worse = (a: number, b: number): boolean =>
    (heapVal[a] as number) < (heapVal[b] as number) ||
    ((heapVal[a] as number) === (heapVal[b] as number) && (heapIdx[a] as number) > (heapIdx[b] as number));
  const swap = (a: number, b: number): void => {
    const ti = heapIdx[a] as number;
    heapIdx[a] = heapIdx[b] as number;
    heapIdx[b] = ti;
    const tv = heapVal[a] as number;
    heapVal[a] = heapVal[b] as number;
    heapVal[b] = tv;
  };
  const siftDown = (start: number): void => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && worse(l, m)) m = l;
      if (r < size && worse(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  for (let i = 0; i < count; i++) {
    const s = scores[i] as number;
    if (Number.isNaN(s) || (skip !== undefined && skip(i))) continue;
    if (size < k) {
      heapIdx[size] = i;
      heapVal[size] = s;
      let c = size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!worse(c, p)) break;
        swap(c, p);
        c = p;
      }
    } else if (k > 0 && (s > (heapVal[0] as number) || (s === heapVal[0] && i < (heapIdx[0] as number)))) {
      heapIdx[0] = i;
      heapVal[0] = s;
      siftDown(0);
    }
  }
  const order = Array.from({ length: size }, (_, j) => j).sort(
    (a, b) =>
      (heapVal[b] as number) - (heapVal[a] as number) || (heapIdx[a] as number) - (heapIdx[b] as number),
  );
  return {
    indices: Int32Array.from(order, (j) => heapIdx[j] as number),
    scores: Float32Array.from(order, (j) => heapVal[j] as number),
  };
}

/** Finds the items with the largest inner product with a query vector. */
export interface TopK {
  search(query: Float32Array, k: number, skip?: (index: number) => boolean): TopKResult;
}

/** Exact top-k by scanning a dense item matrix (row-major, `dim` columns). */
export class BruteForceTopK implements TopK {
  readonly #matrix: () => { vectors: Float32Array; count: number; dim: number; biases?: Float32Array };

  constructor(matrix: () => { vectors: Float32Array; count: number; dim: number; biases?: Float32Array }) {
    this.#matrix = matrix;
  }

  search(query: Float32Array, k: number, skip?: (index: number) => boolean): TopKResult {
    const { vectors, count, dim, biases } = this.#matrix();
    const scores = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      let s = biases === undefined ? 0 : (biases[i] as number);
      const base = i * dim;
      for (let d = 0; d < dim; d++) s += (query[d] as number) * (vectors[base + d] as number);
      scores[i] = s;
    }
    return selectTopK(scores, k, count, skip);
  }
}
