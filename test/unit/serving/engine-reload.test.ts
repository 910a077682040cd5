import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryModelStore } from '../../../shared/adapters/memory/index.ts';
import { row, seedModel, servingHarness } from '../../support/serving.ts';

/** A store whose whole-registry reads (what a full reload does) fail while `failing` is set. */
class FlakyFullReads extends MemoryModelStore {
  failing = false;
  fullReads = 0;
  override async getItemRegistry(registry: string, from: number): Promise<string[]> {
    if (from === 0) {
      this.fullReads++;
      if (this.failing) throw new Error('timed out');
    }
    return super.getItemRegistry(registry, from);
  }
}

const turns = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

afterEach(() => {
  vi.useRealTimers();
});

describe('ServingEngine full reloads', () => {
  it('runs a due reload beside the incremental refresh, and after a failure waits for the next period', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new FlakyFullReads();
    await seedModel(store, { items: { a: row([1, 0, 0, 0]) }, users: { u: row([1, 0, 0, 0]) } });
    const h = await servingHarness({ store, config: { serving: { fullReloadMs: 60_000 } } });
    try {
      expect(store.fullReads).toBe(1); // the first load
      store.failing = true;
      vi.setSystemTime(Date.now() + 61_000);
      // Due: the reload starts (and fails in the background); the incremental refresh goes on
      // and applies a new item meanwhile.
      await seedModel(store, { items: { b: row([0, 1, 0, 0]) } });
      await h.engine.refreshOnce();
      await turns();
      expect(store.fullReads).toBe(2);
      expect(h.engine.index.indexOf('b')).toBeGreaterThanOrEqual(0);
      // Not retried at every refresh...
      for (let i = 0; i < 5; i++) await h.engine.refreshOnce();
      await turns();
      expect(store.fullReads).toBe(2);
      // ...but at the next period.
      store.failing = false;
      vi.setSystemTime(Date.now() + 61_000);
      await h.engine.refreshOnce();
      await turns();
      expect(store.fullReads).toBe(3);
    } finally {
      await h.close();
    }
  });
});
