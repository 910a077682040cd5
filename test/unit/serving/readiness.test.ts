import { describe, expect, it } from 'vitest';
import { MemoryModelStore } from '../../../shared/adapters/memory/index.ts';
import { row, seedModel, servingHarness } from '../../support/serving.ts';

/** A store whose item-registry reads (the first load's) wait until `release` is called. */
class GatedStore extends MemoryModelStore {
  #open = false;
  #waiters: (() => void)[] = [];
  fail = false;
  release(): void {
    this.#open = true;
    for (const wake of this.#waiters) wake();
  }
  override async getItemRegistry(registry: string, from: number): Promise<string[]> {
    if (this.fail) throw new Error('connection refused');
    if (!this.#open) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return super.getItemRegistry(registry, from);
  }
}

async function seeded(store: MemoryModelStore): Promise<void> {
  // u's vector points at "near"; "pop" is the most popular item: a half-loaded process (no MF
  // index) would answer from popularity, a loaded one puts "near" first.
  await seedModel(store, {
    items: { near: row([1, 0, 0, 0], 0, 50), far: row([0, 0, 0, 1], 0, 50), pop: row([-1, 0, 0, 0], 0, 50) },
    users: { u: row([1, 0, 0, 0], 0, 10_000) },
    popularity: { '*': { pop: 100, far: 50, near: 1 } },
  });
}

describe('serving readiness', () => {
  it('answers a request that arrives during the first load only once the load is done, as later', async () => {
    const store = new GatedStore();
    await seeded(store);
    const h = await servingHarness({ store, loaded: false });
    try {
      expect((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
      const loading = h.engine.refreshOnce();
      let answered = false;
      const early = h.app
        .inject({ method: 'GET', url: '/v1/users/u/recommendations?k=3' })
        .then((res) => ((answered = true), res));
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      expect(answered).toBe(false); // waiting for the load, not answered from a half-loaded state
      store.release();
      await loading;
      const first = await early;
      expect(first.statusCode).toBe(200);
      const later = await h.app.inject({ method: 'GET', url: '/v1/users/u/recommendations?k=3' });
      const ids = (res: typeof first) =>
        (res.json() as { items: { itemId: string }[] }).items.map((i) => i.itemId);
      expect(ids(first)[0]).toBe('near');
      expect(ids(first)).toEqual(ids(later));
      expect((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('answers 503 NOT_READY with the reason once serving.readyWaitMs has passed without a load', async () => {
    const store = new GatedStore();
    store.fail = true;
    const h = await servingHarness({ store, loaded: false, config: { serving: { readyWaitMs: 30 } } });
    try {
      await h.engine.refreshOnce(); // fails: the store is unreachable
      const res = await h.app.inject({ method: 'GET', url: '/v1/users/u/recommendations?k=3' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'NOT_READY' });
      expect((res.json() as { message: string }).message).toMatch(/item index is not loaded/);
    } finally {
      await h.close();
    }
  });

  it('reports the events MF has learnt as its version, the same after a restart on the same store', async () => {
    const store = new MemoryModelStore();
    await seeded(store);
    await store.commit({
      offsets: [
        { scope: 'recsys-trainer-mf', partition: 0, fromOffset: 0, nextOffset: 30 },
        { scope: 'recsys-trainer-mf', partition: 1, fromOffset: 0, nextOffset: 12 },
      ],
    });
    const version = async () => {
      const h = await servingHarness({ store });
      try {
        const res = await h.app.inject({ method: 'GET', url: '/v1/users/u/recommendations?k=3' });
        return (res.json() as { modelVersion: string }).modelVersion;
      } finally {
        await h.close();
      }
    };
    expect(await version()).toBe('mf.42');
    expect(await version()).toBe('mf.42');
  });
});
