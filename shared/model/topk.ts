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
  const cap = Math.max(0, k);
  const heapIdx = new Int32Array(cap);
  const heapVal = new Float64Array(cap);
  // No closures over the heap state (V8 would keep it in a context object instead of registers:
  // three times slower); sift-up and sift-down are written out.
  let size = 0;
  // The heap's minimum once it is full (until then nothing is dropped by value).
  let floor = Number.NEGATIVE_INFINITY;
  let full = cap === 0;
  for (let i = 0; i < count; i++) {
    const s = scores[i] as number;
    // Once the heap is full, a score that cannot enter it (i only grows, so a tie with the
    // minimum loses) is dropped before `skip` is asked: most of a long scan ends here.
    if (full && !(s > floor)) continue;
    if (s !== s || (skip !== undefined && skip(i))) continue;
    if (size < cap) {
      // Sift up from the end.
      let c = size++;
      while (c > 0) {
        const parent = (c - 1) >> 1;
        const pv = heapVal[parent] as number;
        if (!(s < pv || (s === pv && i > (heapIdx[parent] as number)))) break;
        heapVal[c] = pv;
        heapIdx[c] = heapIdx[parent] as number;
        c = parent;
      }
      heapVal[c] = s;
      heapIdx[c] = i;
      if (size === cap) {
        full = true;
        floor = heapVal[0] as number;
      }
    } else {
      siftDown(heapVal, heapIdx, size, s, i);
      floor = heapVal[0] as number;
    }
  }
  // Heap sort: the worst goes to the end, repeatedly, which leaves the best first.
  for (let end = size - 1; end > 0; end--) {
    const v = heapVal[end] as number;
    const x = heapIdx[end] as number;
    heapVal[end] = heapVal[0] as number;
    heapIdx[end] = heapIdx[0] as number;
    siftDown(heapVal, heapIdx, end, v, x);
  }
  return { indices: heapIdx.subarray(0, size), scores: Float32Array.from(heapVal.subarray(0, size)) };
}

/**
 * selectTopK over scores of listed items: `scores[j]` belongs to item `items[j]`; `skip` is asked
 * about items and the result names items (ties: lower j first).
 */
export function selectTopKOf(
  scores: ArrayLike<number>,
  items: ArrayLike<number>,
  k: number,
  count = items.length,
  skip?: (item: number) => boolean,
): TopKResult {
  const best = selectTopK(scores, k, count, skip === undefined ? undefined : (j) => skip(items[j] as number));
  const indices = new Int32Array(best.indices.length);
  for (let r = 0; r < indices.length; r++) indices[r] = items[best.indices[r] as number] as number;
  return { indices, scores: best.scores };
}

/** Puts (v, x) at the root of a min-heap of `size` (worse = lower value, then higher index) and sifts it down. */
function siftDown(heapVal: Float64Array, heapIdx: Int32Array, size: number, v: number, x: number): void {
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= size) break;
    const r = l + 1;
    let m = l;
    let mv = heapVal[l] as number;
    if (r < size) {
      const rv = heapVal[r] as number;
      if (rv < mv || (rv === mv && (heapIdx[r] as number) > (heapIdx[l] as number))) {
        m = r;
        mv = rv;
      }
    }
    // Stop when (v, x) is no worse than the worse child.
    if (!(mv < v || (mv === v && (heapIdx[m] as number) > x))) break;
    heapVal[i] = mv;
    heapIdx[i] = heapIdx[m] as number;
    i = m;
  }
  heapVal[i] = v;
  heapIdx[i] = x;
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
