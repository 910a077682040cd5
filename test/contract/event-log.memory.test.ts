import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryEventLog } from '../../shared/adapters/memory/index.ts';
import { waitUntil } from '../support/wait.ts';
import { describeEventLogContract } from './event-log.contract.ts';

let groups = 0;

describeEventLogContract('memory', async () => {
  const log = new MemoryEventLog({ partitions: 4, retryDelayMs: 20 });
  return {
    log,
    second: async () => log.connectAnother(),
    group: () => `group-${groups++}`,
    cleanup: async () => undefined,
    rebalanceMs: 5_000,
  };
});

describe('MemoryEventLog persistence', () => {
  it('reloads records and committed group offsets from its data folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recsys-log-'));
    try {
      const first = new MemoryEventLog({ partitions: 2, dataDir: dir });
      await first.append([
        { key: 'a', value: Buffer.from('1') },
        { key: 'b', value: Buffer.from('2') },
        { key: 'a', value: Buffer.from('3') },
      ]);
      const seen: string[] = [];
      const sub = await first.consume({
        groupId: 'g',
        eachBatch: async (batch, ctx) => {
          for (const r of batch.records) {
            if (Buffer.from(r.value).toString() === '3') return; // leave the last one unprocessed
            seen.push(Buffer.from(r.value).toString());
            ctx.markProcessed(r.offset + 1);
          }
        },
      });
      await waitUntil(() => seen.length === 2, 'two records');
      await sub.stop();
      await first.close();

      const second = new MemoryEventLog({ partitions: 2, dataDir: dir });
      expect([...(await second.endOffsets()).values()].reduce((x, y) => x + y, 0)).toBe(3);
      const rest: string[] = [];
      const sub2 = await second.consume({
        groupId: 'g',
        eachBatch: async (batch, ctx) => {
          rest.push(...batch.records.map((r) => Buffer.from(r.value).toString()));
          ctx.markProcessed(batch.nextOffset);
        },
      });
      await waitUntil(() => rest.length === 1, 'the unprocessed record');
      expect(rest).toEqual(['3']);
      await sub2.stop();
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
