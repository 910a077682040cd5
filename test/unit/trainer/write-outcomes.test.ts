import { describe, expect, it } from 'vitest';
import { MemoryModelStore } from '../../../shared/adapters/memory/index.ts';
import { RecsysError } from '../../../shared/errors/index.ts';
import type { CommitBatch, CommitResult } from '../../../shared/ports/index.ts';
import { trainUntilConsumed as run } from '../../support/embedded-trainer.ts';

const click = (k: number) => ({
  key: `u${k % 7}`,
  value: Buffer.from(JSON.stringify({ userId: `u${k % 7}`, itemId: `i${k % 11}`, type: 'click' })),
});

describe('trainer write outcomes', () => {
  it('counts a write whose answer timed out but which had landed, once, and applies nothing twice', async () => {
    const store = new MemoryModelStore();
    const commit = store.commit.bind(store);
    let timeouts = 0;
    store.commit = async (batch: CommitBatch): Promise<CommitResult> => {
      const result = await commit(batch);
      // The first real write lands, then its answer is lost (an ioredis command timeout).
      if (timeouts === 0 && (batch.offsets?.length ?? 0) > 0) {
        timeouts++;
        throw new RecsysError('STORE_UNAVAILABLE', { message: 'Command timed out' });
      }
      return result;
    };
    const records = Array.from({ length: 50 }, (_, k) => click(k));
    const { sum } = await run({ trainer: { models: ['mf'] } }, store, records, ['recsys-trainer-mf']);
    expect(timeouts).toBe(1);
    expect(sum('applied', 'mf')).toBe(50);
    const counts = await store.getCounters('events:mf', ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6']);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(50);
  });

  it('dead-letters a bad record once, not once per model group', async () => {
    const store = new MemoryModelStore();
    const records = [
      click(0),
      { key: 'x', value: Buffer.from('{not json') },
      click(1),
      { key: 'y', value: Buffer.from('{"userId":"y"}') },
    ];
    const { log, sum } = await run(
      { trainer: { models: ['mf', 'neumf'] }, model: { backend: 'cpu' } },
      store,
      records,
      ['recsys-trainer-mf', 'recsys-trainer-neumf'],
    );
    const dead = [...(await log.endOffsets('dead-letter')).values()].reduce((a, b) => a + b, 0);
    expect(dead).toBe(2);
    // Both groups count what they did not learn.
    expect(sum('dead_lettered', 'mf')).toBe(2);
    expect(sum('dead_lettered', 'neumf')).toBe(2);
  }, 60_000);
});
