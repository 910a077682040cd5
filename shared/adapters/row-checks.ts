import { RecsysError } from '../errors/index.ts';
import type { CommitBatch } from '../ports/index.ts';

/**
 * Checks every number a batch would write, before anything is written: a NaN or infinite value
 * never enters the model (NON_FINITE_VALUE), and an initial vector matches its delta's dimension.
 * Both stores call this, so they reject exactly the same batches.
 */
export function assertWritable(batch: CommitBatch): void {
  for (const group of batch.puts ?? []) {
    for (const { id, value } of group.rows) {
      assertFinite(group.table, id, value.vector, [value.bias, value.count, value.updatedAt]);
      if (value.state !== undefined) assertFinite(group.table, id, value.state, []);
    }
  }
  for (const group of batch.deltas ?? []) {
    for (const { id, value } of group.rows) {
      assertFinite(group.table, id, value.vector, [value.bias, value.count, value.updatedAt]);
      if (value.state !== undefined) assertFinite(group.table, id, value.state, []);
      if (value.full !== undefined) {
        assertFinite(group.table, id, value.full.vector, [value.full.bias, value.full.count]);
        if (value.full.state !== undefined) assertFinite(group.table, id, value.full.state, []);
        if (
          value.full.vector.length !== value.vector.length ||
          (value.full.state?.length ?? 0) !== (value.state?.length ?? 0)
        ) {
          throw new RangeError(`full row of ${group.table}/${id} does not match its delta's shape`);
        }
      }
      if (value.init !== undefined) {
        if (value.init.length !== value.vector.length) {
          throw new RangeError(
            `init of ${group.table}/${id} has ${value.init.length} dimensions, its delta ${value.vector.length}`,
          );
        }
        assertFinite(group.table, id, value.init, []);
      }
    }
  }
  for (const counter of batch.counters ?? []) {
    if (!Number.isFinite(counter.by)) {
      throw new RecsysError('NON_FINITE_VALUE', {
        message: `counter ${counter.name}/${counter.field} increment is not finite; nothing written`,
      });
    }
  }
  for (const increment of batch.popularity ?? []) {
    if (!Number.isFinite(increment.by)) {
      throw new RecsysError('NON_FINITE_VALUE', {
        message: `popularity of ${increment.itemId} in ${increment.segment} is not finite; nothing written`,
      });
    }
  }
  for (const { fromOffset, nextOffset } of batch.offsets ?? []) {
    if (!Number.isSafeInteger(fromOffset) || !Number.isSafeInteger(nextOffset) || nextOffset < fromOffset) {
      throw new RangeError(`offset advance ${fromOffset} -> ${nextOffset} is not a forward move`);
    }
  }
}

function assertFinite(
  table: string,
  id: string,
  vector: ArrayLike<number>,
  scalars: readonly number[],
): void {
  let finite = scalars.every(Number.isFinite);
  for (let i = 0; finite && i < vector.length; i++) finite = Number.isFinite(vector[i] as number);
  if (!finite) {
    throw new RecsysError('NON_FINITE_VALUE', {
      message: `row ${table}/${id} has a NaN or infinite value; nothing written`,
    });
  }
}
