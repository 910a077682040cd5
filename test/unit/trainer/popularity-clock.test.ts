import { describe, expect, it } from 'vitest';
import { MemoryModelStore } from '../../../shared/adapters/memory/index.ts';
import { trainUntilConsumed } from '../../support/embedded-trainer.ts';
import { servingHarness } from '../../support/serving.ts';

const WEEK = 7 * 86_400_000;

/** A click in 1997 (MovieLens 100K's time), `weeks` after 1997-09-20. */
const click = (userId: string, itemId: string, weeks: number) => ({
  key: userId,
  value: Buffer.from(
    JSON.stringify({ userId, itemId, type: 'click', timestamp: Date.UTC(1997, 8, 20) + weeks * WEEK }),
  ),
});

describe('popularity on the stream clock', () => {
  it('ranks 1997 events by their own times: decayed between them, never 0, whatever the wall clock', async () => {
    const store = new MemoryModelStore();
    // old: four clicks in week 0; recent: one click in week 1; older: one in week 0.
    const records = [
      click('u1', 'old', 0),
      click('u2', 'old', 0),
      click('u3', 'old', 0),
      click('u4', 'old', 0),
      click('u5', 'older', 0),
      click('u6', 'recent', 1),
    ];
    await trainUntilConsumed({ trainer: { models: ['mf'] } }, store, records, ['recsys-trainer-mf']);
    const h = await servingHarness({ store });
    try {
      const res = await h.app.inject({ method: 'GET', url: '/v1/popular?k=3' });
      const items = (JSON.parse(res.body) as { items: { itemId: string; score: number }[] }).items;
      // With a week's half-life, at week 1: old = 4 * 0.5 = 2, recent = 1, older = 0.5.
      expect(items.map((i) => [i.itemId, i.score])).toEqual([
        ['old', 1],
        ['recent', 0.5],
        ['older', 0.25],
      ]);
    } finally {
      await h.close();
    }
  });
});
