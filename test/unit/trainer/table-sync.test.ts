import { describe, expect, it } from 'vitest';
import { MemoryModelStore } from '../../../shared/adapters/memory/index.ts';
import { EmbeddingTable } from '../../../shared/model/embedding-table.ts';
import type { ModelStore } from '../../../shared/ports/index.ts';
import { TableSync } from '../../../services/trainer/table-sync.ts';

/** A memory store that counts row reads. */
function countingStore(): { store: ModelStore; reads: () => number } {
  const store = new MemoryModelStore();
  let reads = 0;
  const getRows = store.getRows.bind(store);
  store.getRows = async (table, ids) => {
    reads += ids.length;
    return getRows(table, ids);
  };
  return { store, reads: () => reads };
}

const row = (values: number[]) => ({
  vector: Float32Array.from(values),
  bias: 0,
  count: 1,
  updatedAt: 1,
});

function itemTable(): EmbeddingTable {
  return new EmbeddingTable({ name: 'mf:item', dim: 2, seed: 1, initStd: 0, adagrad: false });
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('TableSync for shared rows', () => {
  it('waits only for rows never read; re-reads stale rows in the background', async () => {
    const { store, reads } = countingStore();
    await store.putRows('mf:item', [{ id: 'a', value: row([1, 2]) }]);
    const table = itemTable();
    const sync = new TableSync(table, 'shared', false);
    const [a] = await sync.load(store, ['a'], 1_000, 500);
    expect(reads()).toBe(1);
    expect(Array.from(table.row(a as number))).toEqual([1, 2]);
    // Another trainer changes the row; ours is stale after 500 ms.
    await store.putRows('mf:item', [{ id: 'a', value: row([5, 6]) }]);
    await sync.load(store, ['a'], 2_000, 500);
    // Not waited for: the cached values are still there right after load() returns...
    expect(Array.from(table.row(a as number))).toEqual([1, 2]);
    await settle();
    // ...and replaced once the background read came back.
    expect(reads()).toBe(2);
    expect(Array.from(table.row(a as number))).toEqual([5, 6]);
  });

  it('never lets a background read overwrite training that is not written yet', async () => {
    const { store } = countingStore();
    await store.putRows('mf:item', [{ id: 'a', value: row([1, 2]) }]);
    const table = itemTable();
    const sync = new TableSync(table, 'shared', false);
    const [a] = await sync.load(store, ['a'], 1_000, 500);
    await store.putRows('mf:item', [{ id: 'a', value: row([5, 6]) }]);
    await sync.load(store, ['a'], 2_000, 500);
    // Trained before the read came back.
    table.row(a as number).set([9, 9]);
    sync.markChanged([a as number]);
    await settle();
    expect(Array.from(table.row(a as number))).toEqual([9, 9]);
  });

  it('warms rows never read, and leaves rows a batch already read alone', async () => {
    const { store, reads } = countingStore();
    await store.putRows('mf:item', [
      { id: 'a', value: row([1, 2]) },
      { id: 'b', value: row([3, 4]) },
    ]);
    const table = itemTable();
    const sync = new TableSync(table, 'shared', false);
    const [b] = await sync.load(store, ['b'], 1_000, 500);
    table.row(b as number).set([7, 7]);
    sync.markChanged([b as number]);
    await sync.warm(store, ['a', 'b', 'c'], 1_000);
    expect(Array.from(table.row(table.indexOf('a')))).toEqual([1, 2]);
    expect(Array.from(table.row(b as number))).toEqual([7, 7]);
    expect(Array.from(table.row(table.indexOf('c')))).toEqual([0, 0]);
    // Warmed rows are loaded: a batch does not read them again.
    const before = reads();
    await sync.load(store, ['a', 'c'], 1_200, 500);
    expect(reads()).toBe(before);
  });
});
