/**
 * The sums that make the hybrid model's vectors, one copy for the trainer (hybrid-mf.ts) and
 * serving (its item index and user state): a composite vector is an id row plus the mean of its
 * weighted feature rows, `out += (1 / n) * sum_k w_k * row_k`, and a query adds the mean of each
 * group of context rows the same way (weights 1). Two shapes of storage: rows of a flat table by
 * index, or separate vectors.
 */

/**
 * Adds the weighted mean of rows `ids[from .. from + count)` of the flat `table` (`dim` columns)
 * to `out`; `weights` (read at the same positions) absent: every weight is 1. No allocation.
 */
export function addRowMean(
  out: Float32Array,
  table: Float32Array,
  ids: ArrayLike<number>,
  weights: ArrayLike<number> | undefined,
  from: number,
  count: number,
  dim: number,
): void {
  const scale = 1 / Math.max(1, count);
  for (let k = from; k < from + count; k++) {
    const w = weights === undefined ? scale : scale * (weights[k] as number);
    const base = (ids[k] as number) * dim;
    for (let d = 0; d < dim; d++) out[d] = (out[d] as number) + w * (table[base + d] as number);
  }
}

/**
 * Adds the weighted mean of `rows` to `out` (`weights` absent: 1 each). A missing row adds
 * nothing but counts in the mean (a context row the store does not have is a zero row).
 */
export function addVectorMean(
  out: Float32Array,
  rows: readonly (ArrayLike<number> | undefined)[],
  weights?: ArrayLike<number>,
): void {
  const scale = 1 / Math.max(1, rows.length);
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k];
    if (row === undefined) continue;
    const w = weights === undefined ? scale : scale * (weights[k] as number);
    for (let d = 0; d < out.length; d++) out[d] = (out[d] as number) + w * (row[d] as number);
  }
}
