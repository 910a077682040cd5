import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryModelStore } from '../../../shared/adapters/memory/index.ts';
import {
  DENSE_CHUNK,
  DENSE_COUNTER,
  DENSE_TABLE,
  chunkIds,
} from '../../../shared/model/neumf/dense-layout.ts';
import { NeuMF } from '../../../shared/model/neumf/neumf.ts';
import { useBackend } from '../../../shared/model/tf-backend.ts';
import { LoadGauge } from '../../../services/serving/process/load-gauge.ts';
import { ALL_LISTS_UP_TO } from '../../../services/serving/ranking/recommender.ts';
import type { RowValue } from '../../../shared/ports/index.ts';
import { row, seedModel, servingHarness } from '../../support/serving.ts';

type Harness = Awaited<ReturnType<typeof servingHarness>>;
const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

async function harness(...args: Parameters<typeof servingHarness>): Promise<Harness> {
  const h = await servingHarness(...args);
  open.push(h);
  return h;
}

/** Lets the background (neighbour lists, catalog changes) run a few slices. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 10));
}

async function recommend(h: Harness, body: Record<string, unknown>) {
  const res = await h.app.inject({ method: 'POST', url: '/v1/recommendations', payload: body });
  expect(res.statusCode, res.body).toBe(200);
  return JSON.parse(res.body) as {
    items: { itemId: string; source: string; score: number }[];
    modelVersion: string;
  };
}

describe('neighbour lists under load', () => {
  it('computes a missing list on the request path when the process is idle or the catalog small, and leaves it to the background when a large one is saturated or on the ANN index', async () => {
    const catalog = [
      { id: 's1', tags: ['space'] },
      { id: 's2', tags: ['space', 'robots'] },
      { id: 's3', tags: ['space', 'robots'] },
      { id: 'r1', tags: ['romance'] },
    ];
    // Untagged filler past ALL_LISTS_UP_TO: a catalog large enough for the request-path budget.
    const filler = Array.from({ length: ALL_LISTS_UP_TO }, (_, i) => ({ id: `f${i}`, tags: [] }));
    const results: { busy: boolean; ann: boolean; content: string[] }[] = [];
    for (const [busy, ann, large] of [
      [false, false, true],
      [true, false, true],
      [false, true, false],
      [true, false, false],
    ] as const) {
      const store = new MemoryModelStore();
      // A gauge whose every interval is all work (busy) or all waiting (idle).
      const load = new LoadGauge({
        timer: false,
        sample: () => ({ active: 0, idle: 0, utilization: busy ? 1 : 0 }),
      });
      load.tick();
      expect(load.busy).toBe(busy);
      const h = await harness({ store, load, ...(ann ? { config: { serving: { annThreshold: 2 } } } : {}) });
      const all = large ? [...catalog, ...filler] : catalog;
      await store.putItems(all.map((c) => ({ id: c.id, record: { itemId: c.id, tags: c.tags } })));
      await seedModel(store, {
        items: Object.fromEntries(all.map((c) => [c.id, row([0, 1, 0, 0], 0, 10)])),
        users: { fan: row([0, 1, 0, 0], 0, 3) },
        histories: { fan: ['s2'] },
        popularity: { '*': { r1: 9 } },
      });
      await h.engine.refreshOnce();
      if (ann) await h.engine.index.rebuildAnn();
      expect(h.engine.index.annActive).toBe(ann);
      const { items } = await recommend(h, { userId: 'fan', k: 3 });
      results.push({ busy, ann, content: items.filter((i) => i.source === 'content').map((i) => i.itemId) });
    }
    // Idle: s2's content list is computed for this request, and its nearest item leads.
    expect(results[0]?.content).toContain('s3');
    // Saturated: no list is computed on the request path (the background will).
    expect(results[1]?.content).toEqual([]);
    // Idle, but the catalog is searched through the ANN index (a list costs a search there):
    // the background computes it.
    expect(results[2]?.content).toEqual([]);
    // Saturated, but a small catalog: every list is computed (the answer depends on the stored
    // state only, not on what the background has cached yet).
    expect(results[3]?.content).toContain('s3');
  });
});

describe('cold start', () => {
  it('puts a brand-new item with the tags a user likes into their recommendations before anyone clicks it', async () => {
    const store = new MemoryModelStore();
    const h = await harness({ store });
    const catalog = [
      { id: 's1', tags: ['space', 'robots'] },
      { id: 's2', tags: ['space'] },
      { id: 'r1', tags: ['romance'] },
      { id: 'r2', tags: ['romance', 'paris'] },
      { id: 'r3', tags: ['romance'] },
    ];
    await store.putItems(catalog.map((c) => ({ id: c.id, record: { itemId: c.id, tags: c.tags } })));
    await seedModel(store, {
      // Space items point one way, romance items another.
      items: Object.fromEntries(
        catalog.map((c) => [c.id, row(c.id.startsWith('s') ? [1, 0, 0, 0] : [0, 1, 0, 0], 0, 10)]),
      ),
      users: { fan: row([0, 1, 0, 0], 0, 3) },
      histories: { fan: ['s1', 's2'] },
      popularity: { '*': { r1: 9, r2: 8, r3: 7 } },
    });
    await h.engine.refreshOnce();
    // A second serving instance on the same store learns of the new item from the catalog stream.
    const other = await harness({ store });
    // Both have answered the fan before: their content lists of s1 and s2 are cached.
    for (const instance of [h, other]) await recommend(instance, { userId: 'fan', k: 3 });
    await turns(5);
    const put = await h.app.inject({
      method: 'PUT',
      url: '/v1/items/new-space',
      payload: { tags: ['space', 'robots'] },
    });
    expect(put.statusCode).toBe(200);
    await other.engine.refreshOnce();
    // The new item is placed in its neighbours' cached lists in the background.
    await turns(5);
    for (const instance of [h, other]) {
      const { items } = await recommend(instance, { userId: 'fan', k: 3 });
      const found = items.find((i) => i.itemId === 'new-space');
      expect(found, JSON.stringify(items)).toBeDefined();
      expect(found?.source).toBe('content');
      expect(items[0]?.itemId).toBe('new-space');
    }
  });

  it('puts a brand-new item into the similar-items lists of established items of its genre', async () => {
    const store = new MemoryModelStore();
    const h = await harness({ store });
    // Two genres of 6 established items each, well trained (count 200); MF agrees with the genres.
    const catalog = [
      ...Array.from({ length: 6 }, (_, i) => ({ id: `drama-${i}`, genre: 'drama', v: [1, 0.1 * i, 0, 0] })),
      ...Array.from({ length: 6 }, (_, i) => ({ id: `comedy-${i}`, genre: 'comedy', v: [0, 1, 0.1 * i, 0] })),
    ];
    await store.putItems(
      catalog.map((c) => ({ id: c.id, record: { itemId: c.id, categories: [c.genre], tags: [c.genre] } })),
    );
    await seedModel(store, { items: Object.fromEntries(catalog.map((c) => [c.id, row(c.v, 0, 200)])) });
    await h.engine.refreshOnce();
    const put = await h.app.inject({
      method: 'PUT',
      url: '/v1/items/drama-new',
      payload: { categories: ['drama'], tags: ['drama'] },
    });
    expect(put.statusCode).toBe(200);
    // Its MF row is an initial vector: an MF-weighted blend (by the established item's count)
    // ranked it last; between an established and a new item content speaks.
    for (const c of catalog.filter((x) => x.genre === 'drama')) {
      const similar = h.engine.recommender.similar(c.id, 5);
      const found = similar.find((i) => i.itemId === 'drama-new');
      expect(found, `${c.id}: ${JSON.stringify(similar)}`).toBeDefined();
      expect(found?.source).toBe('content');
    }
    // Established pairs still rank by MF.
    expect(h.engine.recommender.similar('comedy-0', 3).every((i) => i.source === 'mf')).toBe(true);
  });

  it("ranks a brand-new user's list by their learnt features, and one without features by popularity", async () => {
    const store = new MemoryModelStore();
    const h = await harness({ store });
    // Six items: the two jazz ones point one way in MF and are the least popular.
    await seedModel(store, {
      items: {
        'jazz-1': row([1, 0, 0, 0], 0, 50),
        'jazz-2': row([0.9, 0.1, 0, 0], 0, 50),
        'rock-1': row([0, 1, 0, 0], 0, 50),
        'rock-2': row([0, 0.9, 0.1, 0], 0, 50),
        'pop-1': row([0, 0, 1, 0], 0, 50),
        'pop-2': row([0, 0, 0.9, 0.1], 0, 50),
      },
      popularity: { '*': { 'pop-1': 10, 'pop-2': 9, 'rock-1': 8, 'rock-2': 7, 'jazz-1': 6, 'jazz-2': 5 } },
    });
    // What the trainer learnt from other users in France: they like jazz.
    await store.commit({
      puts: [{ table: 'mf:user-feature', rows: [{ id: 'attr:country=fr', value: row([3, 0, 0, 0]) }] }],
    });
    await store.putUsers([
      { id: 'newbie', record: { userId: 'newbie', attributes: { country: 'fr' } } },
      // A feature nobody with history has: nothing learnt.
      { id: 'visitor', record: { userId: 'visitor', attributes: { country: 'nz' } } },
    ]);
    await h.engine.refreshOnce();
    const list = async (userId: string) => (await recommend(h, { userId, k: 6 })).items.map((i) => i.itemId);
    const plain = await list('plain');
    expect(plain).toEqual(['pop-1', 'pop-2', 'rock-1', 'rock-2', 'jazz-1', 'jazz-2']); // popularity
    const newbie = await list('newbie');
    for (const jazz of ['jazz-1', 'jazz-2']) expect(newbie.indexOf(jazz)).toBeLessThan(plain.indexOf(jazz));
    expect(newbie.indexOf('jazz-1')).toBeLessThan(newbie.indexOf('rock-1'));
    expect(await list('visitor')).toEqual(plain);
  });

  it('gives a brand-new user the popular items of their context', async () => {
    const h = await harness();
    await seedModel(h.store, {
      items: { tv1: row([1, 0, 0, 0]), ph1: row([0, 1, 0, 0]), any: row([0, 0, 1, 0]) },
      popularity: {
        '*': { any: 10, tv1: 2, ph1: 1 },
        'device=tv|hour=evening': { tv1: 5 },
        'device=phone|hour=morning': { ph1: 5 },
      },
    });
    await h.engine.refreshOnce();
    expect(
      (await recommend(h, { userId: 'new', k: 1, context: { device: 'tv', hour: 21 } })).items[0]?.itemId,
    ).toBe('tv1');
    expect(
      (await recommend(h, { userId: 'new', k: 1, context: { device: 'phone', hour: 8 } })).items[0]?.itemId,
    ).toBe('ph1');
    expect((await recommend(h, { userId: 'new', k: 1 })).items[0]?.itemId).toBe('any');
  });
});

describe('context', () => {
  it("adds the request context's rows to the user's vector: the list follows the device, an unknown one is context-free", async () => {
    const h = await harness({ config: { model: { context: { crosses: ['device'] } } } });
    const items: Record<string, RowValue> = {};
    for (let i = 0; i < 5; i++) {
      items[`drama-${i}`] = row([1, 0, 0, 0.01 * i], 0, 50);
      items[`comedy-${i}`] = row([0, 1, 0, 0.01 * i], 0, 50);
    }
    await seedModel(h.store, {
      items,
      users: { u: row([0.6, 0.5, 0, 0], 0, 40), v: row([0.5, 0.6, 0, 0], 0, 40) },
    });
    // What the trainer learnt: this user watches comedy on mobile; everyone watches drama in the evening.
    await h.store.commit({
      puts: [{ table: 'mf:user-context', rows: [{ id: 'u@device=mobile', value: row([-1, 1, 0, 0]) }] }],
    });
    await h.store.commit({
      puts: [{ table: 'mf:context', rows: [{ id: 'hour=evening', value: row([0.3, 0, 0, 0]) }] }],
    });
    await h.engine.refreshOnce();
    const top = async (context?: Record<string, unknown>) =>
      (await recommend(h, { userId: 'u', k: 5, ...(context === undefined ? {} : { context }) })).items.map(
        (i) => i.itemId.split('-')[0],
      );
    // Morning, no device: u = [0.6, 0.5] prefers drama.
    expect(await top({ hour: 9 })).toEqual(Array(5).fill('drama'));
    // Mobile: [0.6 - 1, 0.5 + 1] prefers comedy.
    expect(await top({ hour: 9, device: 'mobile' })).toEqual(Array(5).fill('comedy'));
    // A device nobody used adds nothing.
    expect(await top({ hour: 9, device: 'fridge' })).toEqual(await top({ hour: 9 }));
    // v = [0.5, 0.6] prefers comedy, except in the evening: [0.5 + 0.3, 0.6].
    const top2 = async (hour: number) =>
      (await recommend(h, { userId: 'v', k: 5, context: { hour } })).items.map((i) => i.itemId.split('-')[0]);
    expect(await top2(9)).toEqual(Array(5).fill('comedy'));
    expect(await top2(20)).toEqual(Array(5).fill('drama'));
  });

  it('puts what tends to follow the latest item first (source session), from the lists the trainer stored', async () => {
    const items: Record<string, RowValue> = { x: row([0, 0, 1, 0], 0, 50) };
    for (let i = 0; i < 5; i++) {
      items[`drama-${i}`] = row([1, 0, 0, 0.01 * i], 0, 50);
      items[`comedy-${i}`] = row([0, 1, 0, 0.01 * i], 0, 50);
    }
    const follows = (neighborId: string, by: number) => ({
      transitions: {
        limit: 100,
        increments: [
          { itemId: 'x', neighborId, by },
          { itemId: neighborId, neighborId: 'x', by },
        ],
      },
    });
    const top = async (h: Harness) => (await recommend(h, { userId: 'u', k: 3 })).items;
    for (const enabled of [true, false]) {
      const h = await harness({ config: { trainer: { models: enabled ? ['mf', 'session'] : ['mf'] } } });
      // Transitions first: the list names items the index learns of afterwards.
      await h.store.commit(follows('comedy-2', 5));
      await h.engine.refreshOnce();
      await seedModel(h.store, { items, users: { u: row([1, 0, 0, 0], 0, 40) }, histories: { u: ['x'] } });
      await h.engine.refreshOnce();
      await h.engine.refreshOnce();
      if (!enabled) {
        // MF alone: u = [1, 0, 0, 0] prefers drama.
        expect((await top(h)).map((i) => i.itemId.split('-')[0])).toEqual(['drama', 'drama', 'drama']);
        continue;
      }
      // comedy-2: MF ties the comedies at rank 5 of 10 (0.5), the session's best (1): (0.5 + 1) / 2
      // beats the best drama's (1 + 0) / 2.
      expect((await top(h))[0]).toMatchObject({ itemId: 'comedy-2', source: 'session' });
      // A later batch makes comedy-4 the stronger follower: the change stream brings it.
      await h.store.commit(follows('comedy-4', 20));
      await h.engine.refreshOnce();
      expect((await top(h)).slice(0, 2).map((i) => i.itemId)).toEqual(['comedy-4', 'comedy-2']);
    }
  });

  it("starts a session query from the latest items on the request's device", async () => {
    const items: Record<string, RowValue> = { x: row([0, 0, 1, 0], 0, 50), m: row([0, 0, 1, 0], 0, 50) };
    for (let i = 0; i < 5; i++) items[`drama-${i}`] = row([1, 0, 0, 0.01 * i], 0, 50);
    const h = await harness({ config: { trainer: { models: ['mf', 'session'] } } });
    await seedModel(h.store, {
      items,
      users: { u: row([0, 0, 0, 1], 0, 40) },
      // The user's latest item overall is x (desktop); on the phone it was m.
      histories: { u: ['m', 'x'], 'u\u001fdevice=mobile': ['m'], 'u\u001fdevice=desktop': ['x'] },
    });
    await h.store.commit({
      transitions: {
        limit: 100,
        increments: [
          { itemId: 'x', neighborId: 'drama-1', by: 5 },
          { itemId: 'drama-1', neighborId: 'x', by: 5 },
          { itemId: 'm', neighborId: 'drama-3', by: 5 },
          { itemId: 'drama-3', neighborId: 'm', by: 5 },
        ],
      },
    });
    await h.engine.refreshOnce();
    const first = async (context?: Record<string, unknown>) =>
      (await recommend(h, { userId: 'u', k: 1, ...(context === undefined ? {} : { context }) })).items[0];
    expect(await first({ device: 'mobile' })).toMatchObject({ itemId: 'drama-3', source: 'session' });
    expect(await first({ device: 'desktop' })).toMatchObject({ itemId: 'drama-1', source: 'session' });
    // A device never used, or none: the user's own latest items.
    expect(await first({ device: 'tv' })).toMatchObject({ itemId: 'drama-1', source: 'session' });
    expect(await first()).toMatchObject({ itemId: 'drama-1', source: 'session' });
  });

  it('is context-free when model.mf.context is off', async () => {
    const h = await harness({ config: { model: { mf: { context: false } } } });
    await seedModel(h.store, {
      items: { a: row([1, 0, 0, 0], 0, 50), b: row([0, 1, 0, 0], 0, 50) },
      users: { u: row([1, 0.5, 0, 0], 0, 40) },
    });
    await h.store.commit({
      puts: [{ table: 'mf:user-context', rows: [{ id: 'u@device=mobile', value: row([-2, 2, 0, 0]) }] }],
    });
    await h.engine.refreshOnce();
    const list = await recommend(h, { userId: 'u', k: 2, context: { device: 'mobile' } });
    expect(list.items.map((i) => i.itemId)).toEqual(['a', 'b']);
  });
});

describe('blend weights', () => {
  it("keeps a catalog item nobody touched below a known user's MF ranking unless MF likes it too", async () => {
    const h = await harness();
    const items: Record<string, RowValue> = {};
    for (let i = 0; i < 6; i++) items[`m${i}`] = row([1 + 0.1 * i, 0, 0, 0], 0, 50);
    await seedModel(h.store, {
      items,
      users: { u: row([1, 0, 0, 0], 0, 40) },
      histories: { u: ['m0'] },
    });
    await h.store.putItems([
      ...Object.keys(items).map((id) => ({
        id,
        record: { itemId: id, tags: id === 'm0' ? ['space', 'robots'] : ['space'] },
      })),
      // Untouched, the same tag as the user's history (content: a perfect match), and its feature
      // rows say MF ranks it last.
      { id: 'cold', record: { itemId: 'cold', tags: ['space', 'robots'] } },
    ]);
    await h.store.commit({
      puts: [
        {
          table: 'mf:item-feature',
          rows: [
            { id: 'tag:space', value: row([0, 0, 0, 0]) },
            { id: 'tag:robots', value: row([-4, 0, 0, 0]) },
          ],
        },
      ],
    });
    await h.engine.refreshOnce();
    await turns(5);
    const list = (await recommend(h, { userId: 'u', k: 6 })).items.map((i) => i.itemId);
    expect(list.slice(0, 2)).toEqual(['m5', 'm4']);
  });
});

describe('following the trainer', () => {
  it('applies changed rows from the change stream without a full reload', async () => {
    const h = await harness({ config: { serving: { fullReloadMs: 3_600_000 } } });
    await seedModel(h.store, {
      items: { x: row([1, 0, 0, 0], 0, 100), y: row([0, 1, 0, 0], 0, 100) },
      users: { u: row([1, 0, 0, 0], 0, 100) },
    });
    await h.engine.refreshOnce();
    expect((await recommend(h, { userId: 'u', k: 1 })).items[0]?.itemId).toBe('x');
    const before = h.engine.index.version;
    await seedModel(h.store, { items: { y: row([5, 0, 0, 0], 0, 100), z: row([9, 0, 0, 0], 0, 100) } });
    await h.engine.refreshOnce();
    expect(h.engine.index.version).toBeGreaterThan(before);
    expect((await recommend(h, { userId: 'u', k: 3 })).items.map((i) => i.itemId)).toEqual(['z', 'y', 'x']);
  });
});

describe('NeuMF re-ranking', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('re-ranks candidates with the published tower and the request context', async () => {
    const neumf = { gmfDim: 2, mlpDim: 2, hidden: [4, 2], contextDim: 2 };
    const h = await harness({ config: { trainer: { models: ['mf', 'neumf'] }, model: { neumf } } });
    const model = new NeuMF({ ...neumf, seed: h.config.model.seed, initStd: 0.01 });
    const flat = Float32Array.from(model.tower.variables.flatMap((v) => Array.from(v.dataSync())));
    model.dispose();
    const items = ['p', 'q', 'r'];
    await seedModel(h.store, {
      items: Object.fromEntries(items.map((id, i) => [id, row([1, i, 0, 0], 0, 100)])),
      users: { u: row([1, 0, 0, 0], 0, 100) },
    });
    // Item GMF rows chosen so NeuMF's GMF part orders them r > q > p for this user.
    await h.store.commit({
      puts: [
        { table: 'ncf:gmf:user', rows: [{ id: 'u', value: row([1, 1], 0, 100) }] },
        { table: 'ncf:mlp:user', rows: [{ id: 'u', value: row([0, 0], 0, 100) }] },
        { table: 'ncf:gmf:item', rows: items.map((id, i) => ({ id, value: row([i * 3, i * 3], 0, 100) })) },
        { table: 'ncf:mlp:item', rows: items.map((id) => ({ id, value: row([0, 0], 0, 100) })) },
        {
          table: DENSE_TABLE,
          rows: chunkIds(flat.length).map((id, c) => ({
            id,
            value: row([...flat.subarray(c * DENSE_CHUNK, (c + 1) * DENSE_CHUNK)]),
          })),
        },
      ],
      counters: [{ name: DENSE_COUNTER, field: 'version', by: 1 }],
      newItems: { registry: 'neumf', ids: items },
    });
    await h.engine.refreshOnce();
    expect(h.engine.neumf?.ready).toBe(true);
    const result = await recommend(h, { userId: 'u', k: 3, context: { device: 'tv' } });
    expect(result.modelVersion).toMatch(/-neumf\.1$/);
    expect(result.items.some((i) => i.source === 'neumf')).toBe(true);
    // The output weights of the GMF part decide the direction; compute it like the tower does.
    const gmfWeights = flat.subarray(flat.length - 1 - (2 + 2), flat.length - 1 - 2);
    const direction = (gmfWeights[0] as number) + (gmfWeights[1] as number);
    const order = result.items.map((i) => i.itemId);
    // MF alone ranks r > q > p (u . v = 1 for all, ties by id) - NeuMF moves the GMF-preferred first.
    expect(order[0]).toBe(direction > 0 ? 'r' : 'p');
  });
});
