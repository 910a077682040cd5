import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryModelStore, loadModelState } from '../../shared/adapters/memory/index.ts';
import { describeModelStoreContract } from './model-store.contract.ts';

describeModelStoreContract('memory', async () => {
  const store = new MemoryModelStore();
  return {
    store,
    second: async () => new MemoryModelStore({ state: store.state }),
    fresh: async () => new MemoryModelStore(),
    cleanup: async () => undefined,
  };
});

describe('MemoryModelStore persistence', () => {
  it('restores rows, offsets and counters written to its file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recsys-store-'));
    try {
      const file = join(dir, 'model.json');
      const store = new MemoryModelStore({ file });
      await store.commit({
        offsets: [{ scope: 'mf', partition: 1, fromOffset: 0, nextOffset: 42 }],
        puts: [
          {
            table: 'mf:user',
            rows: [
              { id: 'u', value: { vector: Float32Array.of(0.1, 0.2), bias: 1, count: 2, updatedAt: 3 } },
            ],
          },
        ],
        counters: [{ name: 'events', field: 'u', by: 2 }],
        history: [{ userId: 'u', items: ['a', 'b'] }],
        newItems: { registry: 'mf', ids: ['a'] },
        popularity: [{ segment: '*', itemId: 'a', by: 2 }],
        changedItems: { stream: 'mf', ids: ['a'] },
      });
      await store.putItems([{ id: 'a', record: { itemId: 'a', tags: ['t'] } }]);
      await store.close();
      const reopened = new MemoryModelStore({ state: loadModelState(file) });
      const [row] = await reopened.getRows('mf:user', ['u']);
      expect(Array.from(row!.vector)).toEqual([Math.fround(0.1), Math.fround(0.2)]);
      expect(row).toMatchObject({ bias: 1, count: 2, version: 1, updatedAt: 3 });
      expect(await reopened.getOffsets('mf')).toEqual(new Map([[1, 42]]));
      expect(await reopened.getCounters('events', ['u'])).toEqual([2]);
      expect(await reopened.getHistories(['u'])).toEqual([['a', 'b']]);
      expect(await reopened.getItemRegistry('mf', 0)).toEqual(['a']);
      expect(await reopened.getPopular('*', 1)).toEqual([{ itemId: 'a', score: 2 }]);
      expect((await reopened.readItemChanges('mf', '0', 5)).map((e) => e.items)).toEqual([['a']]);
      expect(await reopened.getItems(['a'])).toEqual([{ itemId: 'a', tags: ['t'] }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('saves on its interval only after a change, without waiting for close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recsys-store-'));
    const file = join(dir, 'model.json');
    const store = new MemoryModelStore({ file, persistIntervalMs: 20 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(existsSync(file)).toBe(false);
      await store.putUsers([{ id: 'u', record: { userId: 'u', tags: ['x'] } }]);
      for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 10));
      expect(await new MemoryModelStore({ state: loadModelState(file) }).getUsers(['u'])).toEqual([
        { userId: 'u', tags: ['x'] },
      ]);
      const saved = statSync(file).mtimeMs;
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(statSync(file).mtimeMs).toBe(saved);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
