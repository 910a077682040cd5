import { describe, expect, it } from 'vitest';
import { MemoryModelStore } from '../../../shared/adapters/memory/index.ts';
import { trainUntilConsumed } from '../../support/embedded-trainer.ts';

describe('the trainer per-user cap (events produced straight to the log)', () => {
  it('learns at most trainer.userEventsPerMinute events per user per minute of event time, counts the rest', async () => {
    const store = new MemoryModelStore();
    const minute = 1_764_000_000_000 - (1_764_000_000_000 % 60_000);
    const event = (userId: string, k: number, timestamp: number) => ({
      key: userId,
      value: Buffer.from(JSON.stringify({ userId, itemId: `i${k}`, type: 'click', timestamp })),
    });
    // flood: 8 in one minute (5 learnt), then 2 in the next (both learnt); calm: 3.
    const records = [
      ...Array.from({ length: 8 }, (_, k) => event('flood', k, minute + k * 1_000)),
      ...Array.from({ length: 3 }, (_, k) => event('calm', k, minute + k * 1_000)),
      ...Array.from({ length: 2 }, (_, k) => event('flood', k + 8, minute + 60_000 + k)),
    ];
    const { sum } = await trainUntilConsumed(
      { trainer: { models: ['mf'], userEventsPerMinute: 5 } },
      store,
      records,
      ['recsys-trainer-mf'],
    );
    expect(await store.getCounters('events:mf', ['flood', 'calm'])).toEqual([7, 3]);
    expect(sum('capped', 'mf')).toBe(3);
    expect(sum('applied', 'mf')).toBe(10);
  });
});
