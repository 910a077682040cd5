import { describe, expect, it } from 'vitest';
import { MemoryModelStore } from '../../../shared/adapters/memory/index.ts';
import { TRANSITIONS_STREAM } from '../../../shared/ports/index.ts';
import { trainUntilConsumed } from '../../support/embedded-trainer.ts';

const T0 = Date.UTC(2026, 0, 5);

const click = (userId: string, itemId: string, n: number, device?: string) => ({
  key: userId,
  value: Buffer.from(
    JSON.stringify({
      userId,
      itemId,
      type: 'click',
      timestamp: T0 + n * 1_000,
      ...(device === undefined ? {} : { context: { device } }),
    }),
  ),
});

/** u1 clicks a, b, c; u2 clicks c, a (one partition: log order is time order). */
const EVENTS = [
  click('u1', 'a', 0),
  click('u1', 'b', 1),
  click('u2', 'c', 2),
  click('u1', 'c', 3),
  click('u2', 'a', 4),
];

const SESSION = { window: 2, decay: 0.5, neighbors: 50 };

/**
 * By hand, window 2 and decay 0.5: u1's b pairs with a (1); u1's c with b (1) and a (0.5); u2's a
 * with c (1). Each pair counts both ways; an item's degree is the sum of its row.
 */
const EXPECTED = {
  a: {
    degree: 2.5,
    neighbors: [
      { itemId: 'c', weight: 1.5 },
      { itemId: 'b', weight: 1 },
    ],
  },
  b: {
    degree: 2,
    neighbors: [
      { itemId: 'c', weight: 1 },
      { itemId: 'a', weight: 1 },
    ],
  },
  c: {
    degree: 2.5,
    neighbors: [
      { itemId: 'a', weight: 1.5 },
      { itemId: 'b', weight: 1 },
    ],
  },
};

const run = (store: MemoryModelStore, records: typeof EVENTS) =>
  trainUntilConsumed(
    { trainer: { models: ['mf', 'session'] }, model: { session: SESSION } },
    store,
    records,
    ['recsys-trainer-mf', 'recsys-trainer-session'],
  );

describe('the session signal in the trainer', () => {
  it('learns the pair weights of the offline rule and commits them with the batch', async () => {
    const store = new MemoryModelStore();
    await run(store, EVENTS);
    expect(await store.getTransitions(['a', 'b', 'c'])).toEqual([EXPECTED.a, EXPECTED.b, EXPECTED.c]);
    const changed = await store.readItemChanges(TRANSITIONS_STREAM, '0', 100);
    expect(new Set(changed.flatMap((c) => c.items))).toEqual(new Set(['a', 'b', 'c']));
  });

  it('pairs the first events after a restart with the stored history: the same weights as one run', async () => {
    const store = new MemoryModelStore();
    // Stopped after u1's a, b and u2's c; the next run reads the whole log from the stored offset.
    await run(store, EVENTS.slice(0, 3));
    expect(await store.getTransitions(['c'])).toEqual([undefined]);
    await run(store, EVENTS);
    expect(await store.getTransitions(['a', 'b', 'c'])).toEqual([EXPECTED.a, EXPECTED.b, EXPECTED.c]);
  });

  it("keeps a phone's session apart from a desktop's: pairs and lists per device", async () => {
    const store = new MemoryModelStore();
    // Phone: a, then b; desktop in between: x. Then y with no device (the user's own list).
    await run(store, [
      click('u1', 'a', 0, 'mobile'),
      click('u1', 'x', 1, 'desktop'),
      click('u1', 'b', 2, 'mobile'),
      click('u1', 'y', 3),
    ]);
    // b pairs with a (the phone's previous item), never with x; y (no device) is the first item
    // of the user's device-less session.
    expect(await store.getTransitions(['a', 'b', 'x', 'y'])).toEqual([
      { degree: 1, neighbors: [{ itemId: 'b', weight: 1 }] },
      { degree: 1, neighbors: [{ itemId: 'a', weight: 1 }] },
      undefined,
      undefined,
    ]);
    // Each session's list is its own; the user's history (what serving filters) has every event.
    expect(
      await store.getHistories(['u1', 'u1\u001fdevice=mobile', 'u1\u001fdevice=desktop', 'u1\u001f']),
    ).toEqual([['a', 'x', 'b', 'y'], ['a', 'b'], ['x'], ['y']]);
  });

  it('learns nothing without the session model', async () => {
    const store = new MemoryModelStore();
    await trainUntilConsumed({ trainer: { models: ['mf'] }, model: { session: SESSION } }, store, EVENTS, [
      'recsys-trainer-mf',
    ]);
    expect(await store.getTransitions(['a', 'b', 'c'])).toEqual([undefined, undefined, undefined]);
  });
});
