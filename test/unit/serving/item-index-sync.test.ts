import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryModelStore } from '../../../shared/adapters/memory/index.ts';
import { createLogger } from '../../../shared/observability/index.ts';
import type { Row, RowTable } from '../../../shared/ports/index.ts';
import { ItemIndex } from '../../../services/serving/index/item-index.ts';
import { FEATURE_REFRESH_MS, ItemIndexSync } from '../../../services/serving/index/item-index-sync.ts';
import { row, seedModel } from '../../support/serving.ts';

const ITEMS = 2_000;

/**
 * A store whose batch reads of item rows return a stale copy of some items: what a reload reads
 * when the trainer writes an item between the reload's read and its write of that batch.
 */
class StaleBatches extends MemoryModelStore {
  readonly stale = new Map<string, Row>();
  override async getRows(table: RowTable, ids: readonly string[]): Promise<(Row | undefined)[]> {
    const rows = await super.getRows(table, ids);
    if (table !== 'mf:item' || ids.length < 2) return rows;
    return rows.map((r, k) => this.stale.get(ids[k] as string) ?? r);
  }
}

async function world() {
  const store = new StaleBatches();
  const ids = Array.from({ length: ITEMS }, (_, i) => `i${i}`);
  await seedModel(store, { items: Object.fromEntries(ids.map((id, i) => [id, row([i % 7, 1, 0, 0])])) });
  await store.putItems(ids.map((id, i) => ({ id, record: { itemId: id, tags: [`t${i % 10}`] } })));
  const index = new ItemIndex({ dim: 4, seed: 1, initStd: 0, annThreshold: 1_000_000 });
  const sync = new ItemIndexSync(index, store, createLogger({ level: 'silent' }));
  return { store, index, sync };
}

/** Lets promise callbacks and setImmediate callbacks run, but no timer. */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ItemIndexSync', () => {
  it('loads at once the first time, and paces a reload with pauses between its batches', async () => {
    const { index, sync } = await world();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // The first load never waits on a timer (nothing is served yet).
    await sync.load();
    expect(index.size).toBe(ITEMS);
    const version = index.version;
    const catalogVersion = index.catalogVersion;
    // A reload stops at its first pause until time passes.
    let done = false;
    const reload = sync.load().then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    expect(vi.getTimerCount()).toBe(1);
    let pauses = 0;
    while (!done && pauses < 1_000) {
      await vi.advanceTimersToNextTimerAsync();
      await settle();
      pauses++;
    }
    await reload;
    // 2,000 items in batches of 250: catalog and rows, 8 batches each, a pause after every batch
    // (advancing to the next timer may run more than one when they fall due together).
    expect(pauses).toBeGreaterThan(4);
    expect(pauses).toBeLessThanOrEqual(16);
    // Nothing changed in the store: re-applying it changed nothing.
    expect(index.version).toBe(version);
    expect(index.catalogVersion).toBe(catalogVersion);
  });

  it('applies what changed in the store on a reload', async () => {
    const { store, index, sync } = await world();
    await sync.load();
    await seedModel(store, { items: { i5: row([9, 9, 9, 9]) } });
    await store.putItems([{ id: 'i6', record: { itemId: 'i6', tags: ['new'], hidden: true } }]);
    await sync.load();
    expect(Array.from(index.vector(index.indexOf('i5')))).toEqual([9, 9, 9, 9]);
    expect(index.hidden(index.indexOf('i6'))).toBe(true);
    expect(index.content.similarity(index.indexOf('i6'), index.indexOf('i16'))).toBe(0);
  });

  it('reads again at its end what the incremental refreshes applied while it ran, so the latest copy wins', async () => {
    const { store, index, sync } = await world();
    await sync.load();
    const before = await store.getRows('mf:item', ['i0']);
    // The trainer writes i0; the reload's batch read of i0 will come back with the older copy.
    store.stale.set('i0', before[0] as Row);
    await seedModel(store, { items: { i0: row([7, 7, 7, 7]) } });
    const reload = sync.load();
    // A refresh beside it applies the new row first; then the reload writes its stale copy.
    await sync.refresh();
    expect(Array.from(index.vector(index.indexOf('i0')))).toEqual([7, 7, 7, 7]);
    await reload;
    expect(Array.from(index.vector(index.indexOf('i0')))).toEqual([7, 7, 7, 7]);
  });

  it('stops a reload under way when stopped', async () => {
    const { sync } = await world();
    await sync.load();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let done = false;
    const reload = sync.load().then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    sync.stop();
    await vi.advanceTimersToNextTimerAsync();
    await settle();
    expect(done).toBe(true);
    await reload;
  });
});

describe('ItemIndexSync and trained feature rows', () => {
  it('reads the item feature rows again on its clock, and recomputes the items that have them', async () => {
    const store = new MemoryModelStore();
    await seedModel(store, { items: { a: row([0, 0, 0, 0]), b: row([0, 0, 0, 0]) } });
    await store.putItems([
      { id: 'a', record: { itemId: 'a', tags: ['drama'] } },
      { id: 'b', record: { itemId: 'b' } },
    ]);
    await store.commit({
      puts: [{ table: 'mf:item-feature', rows: [{ id: 'tag:drama', value: row([1, 0, 0, 0]) }] }],
    });
    let now = 1_000_000;
    const index = new ItemIndex({ dim: 4, seed: 1, initStd: 0, annThreshold: 1_000_000 });
    const sync = new ItemIndexSync(index, store, createLogger({ level: 'silent' }), () => now);
    await sync.load();
    const scoreOfA = () => {
      const out = new Float64Array(1);
      index.scoresInto(Float32Array.of(1, 1, 0, 0), Int32Array.of(index.indexOf('a')), 1, out);
      return out[0];
    };
    // a = id row [0, 0, 0, 0] + tag:drama [1, 0, 0, 0]: the query [1, 1, 0, 0] scores 1.
    expect(scoreOfA()).toBeCloseTo(1, 6);
    // The trainer moves tag:drama; no change stream names it.
    await store.commit({
      puts: [{ table: 'mf:item-feature', rows: [{ id: 'tag:drama', value: row([1, 2, 0, 0]) }] }],
    });
    await sync.refresh();
    expect(scoreOfA()).toBeCloseTo(1, 6); // read at most every FEATURE_REFRESH_MS
    now += FEATURE_REFRESH_MS;
    await sync.refresh();
    expect(scoreOfA()).toBeCloseTo(3, 6);
  });
});
