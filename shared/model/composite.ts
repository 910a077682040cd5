import type { EmbeddingTable } from './embedding-table.ts';
import type { ContextRows } from './hybrid-mf-config.ts';

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

/** Adds the context rows of `context` to `out` (a query vector), as addContextVectors does. */
export function addContextRows(
  out: Float32Array,
  contexts: EmbeddingTable,
  userContexts: EmbeddingTable,
  context: ContextRows,
  dim: number,
): void {
  addRowMean(out, contexts.vectors, context.shared, undefined, 0, context.shared.length, dim);
  addRowMean(out, userContexts.vectors, context.crosses, undefined, 0, context.crosses.length, dim);
}

/**
 * Adds the mean of the shared context rows and the mean of the user x context rows to `out`:
 * the query of a user in a context, in the trainer and in serving alike. A row the store does not
 * have is `undefined` and counts as zero (the value that rows start at). The means, not sums:
 * with many context fields a sum moves the query (1 + fields) times as fast as the user row, and
 * the shared rows, which every event trains, drown the user's own taste.
 */
export function addContextVectors(
  out: Float32Array,
  shared: readonly (Float32Array | undefined)[],
  crosses: readonly (Float32Array | undefined)[],
): void {
  addVectorMean(out, shared);
  addVectorMean(out, crosses);
}
