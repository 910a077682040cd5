import type { EmbeddingTable } from '../embedding-table.ts';
import { updateRow } from '../optimizer.ts';
import type { NeuMfConfig } from './config.ts';

/** NeuMF's row tables, as the gradient step updates them. */
export interface NeuMfTables {
  readonly gmfUsers: EmbeddingTable;
  readonly gmfItems: EmbeddingTable;
  readonly mlpUsers: EmbeddingTable;
  readonly mlpItems: EmbeddingTable;
  readonly contexts: EmbeddingTable;
}

/** The row side of a NeuMF step: the gradients TF.js returns for the gathered rows, applied. */
export class RowGradients {
  readonly #config: NeuMfConfig;
  readonly #tables: NeuMfTables;
  readonly #mlpInputDim: number;
  /** Scratch: row -> slot, each slot's row and summed gradient. */
  readonly #rowSlots = new Map<number, number>();
  #slotRows = new Int32Array(0);
  #rowSums = new Float32Array(0);

  constructor(config: NeuMfConfig, tables: NeuMfTables, mlpInputDim: number) {
    this.#config = config;
    this.#tables = tables;
    this.#mlpInputDim = mlpInputDim;
  }

  /** Sums gradients of duplicate rows and applies one row-wise update per distinct row. */
  apply(
    users: Int32Array,
    items: Int32Array,
    ctx: Int32Array,
    grads: Float32Array,
    b: number,
    fields: number,
    useContext: boolean,
  ): void {
    const c = this.#config;
    const g = c.gmfDim;
    const m = c.mlpDim;
    const cd = c.contextDim;
    // Gradient row layout per example: [d ug (g), d ig (g), d mlp input (2m + fields * cd)].
    const stride = 2 * g + this.#mlpInputDim;
    // Per-example gradients: the loss is a mean over the batch, rows get each example's share back.
    const scale = b;
    const apply = (table: EmbeddingTable, indices: ArrayLike<number>, column: number, dim: number) => {
      // Distinct rows in order of first appearance; their gradients summed in example order.
      const slots = this.#rowSlots;
      slots.clear();
      const n = indices.length;
      if (this.#rowSums.length < n * dim) this.#rowSums = new Float32Array(n * dim);
      if (this.#slotRows.length < n) this.#slotRows = new Int32Array(n);
      const sums = this.#rowSums;
      const rows = this.#slotRows;
      for (let k = 0; k < n; k++) {
        const row = indices[k] as number;
        let slot = slots.get(row);
        const from = k * stride + column;
        if (slot === undefined) {
          slot = slots.size;
          slots.set(row, slot);
          rows[slot] = row;
          sums.set(grads.subarray(from, from + dim), slot * dim);
          continue;
        }
        const to = slot * dim;
        for (let d = 0; d < dim; d++) sums[to + d] = (sums[to + d] as number) + (grads[from + d] as number);
      }
      for (let slot = 0; slot < slots.size; slot++) {
        const row = rows[slot] as number;
        updateRow(table.vectors, table.accum, row, sums, scale, dim, c.rowOptimizer, slot * dim);
        table.markDirty(row, 0);
      }
    };
    apply(this.#tables.gmfUsers, users, 0, g);
    apply(this.#tables.gmfItems, items, g, g);
    apply(this.#tables.mlpUsers, users, 2 * g, m);
    apply(this.#tables.mlpItems, items, 2 * g + m, m);
    if (useContext) {
      const rows = new Int32Array(b);
      for (let f = 0; f < fields; f++) {
        for (let k = 0; k < b; k++) rows[k] = ctx[k * fields + f] as number;
        apply(this.#tables.contexts, rows, 2 * g + 2 * m + f * cd, cd);
      }
    }
  }
}

/** Copies the rows `indices` of a table into one row-major array. */
export function gather(table: EmbeddingTable, indices: ArrayLike<number>): Float32Array {
  const dim = table.dim;
  const out = new Float32Array(indices.length * dim);
  const vectors = table.vectors;
  for (let k = 0; k < indices.length; k++) {
    const row = indices[k] as number;
    out.set(vectors.subarray(row * dim, row * dim + dim), k * dim);
  }
  return out;
}

export function allFinite(values: Float32Array): boolean {
  let sum = 0;
  for (let k = 0; k < values.length; k++) sum += (values[k] as number) * 0;
  return sum === 0;
}
