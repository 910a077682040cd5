import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DEAD_LETTER_HEADERS, type ConsumedRecord } from '../../shared/ports/index.ts';
import { kafkaLog } from '../support/adapters.ts';
import { TrainerProcess, writeTestConfig } from '../support/trainer-process.ts';
import { trainerRun } from '../support/trainer-run.ts';
import { sleep, waitUntil } from '../support/wait.ts';
import { appliedTally, produceWorkload, waitForGroup } from '../support/workload.ts';

const services = inject('services');
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup().catch(() => undefined);
});

async function sumOfItemCounts(
  store: Awaited<ReturnType<typeof trainerRun>>['store'],
  items: number,
): Promise<number> {
  const rows = await store.getRows(
    'mf:item',
    Array.from({ length: items }, (_, i) => `i${i}`),
  );
  return rows.reduce((sum, row) => sum + (row?.count ?? 0), 0);
}

describe('several trainers on one topic', () => {
  it(
    "keeps counts exact and every instance's item deltas when one of two is killed midway",
    { timeout: 400_000 },
    async () => {
      const run = await trainerRun({ partitions: 4 });
      cleanups.push(run.cleanup);
      // Both instances join before the events exist: otherwise the first may train them all
      // before the second one is given a partition.
      const a = await TrainerProcess.start(services, { configFile: run.configFile });
      const b = await TrainerProcess.start(services, { configFile: run.configFile });
      await waitUntil(
        () => (b.assigned()?.length ?? 0) > 0 && (a.assigned()?.length ?? 4) < 4,
        'the group to share the partitions between both instances',
        120_000,
        100,
      );
      const workload = await produceWorkload(run.log, { count: 60_000, users: 3_000, items: 500, seed: 3 });
      await waitUntil(
        async () =>
          (await a.metric('recsys_trainer_events_total')) > 0 &&
          (await b.metric('recsys_trainer_events_total')) > 0,
        'both instances to train',
        120_000,
        100,
      );
      b.kill('SIGKILL');
      await b.exited();
      await waitForGroup(run.log, run.store, run.groupId, 300_000);
      a.kill('SIGTERM');
      // Exit 0 means the stop finished within trainer.shutdownTimeoutMs (past it the process exits 1).
      expect((await a.exited()).code).toBe(0);

      const users = [...workload.perUser.keys()];
      const counts = await run.store.getCounters('events:mf', users);
      expect(users.filter((u, i) => counts[i] !== workload.perUser.get(u))).toEqual([]);
      // Every positive event adds 1 to its item's count, whichever instance applied it: the sum
      // is exact only if both instances' deltas to the shared item rows are all there.
      expect(await sumOfItemCounts(run.store, 500)).toBe(workload.positives);
    },
  );

  it(
    'fences a paused zombie: its late batch is rejected, counts stay exact, offsets never move back',
    { timeout: 400_000 },
    async () => {
      const run = await trainerRun({ partitions: 4 });
      cleanups.push(run.cleanup);
      const workload = await produceWorkload(run.log, { count: 250_000, users: 4_000, items: 800, seed: 4 });
      const ends = await run.log.endOffsets();
      const history = new Map<number, number[]>();
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          const offsets = await run.store.getOffsets(run.groupId).catch(() => new Map<number, number>());
          for (const [p, o] of offsets) history.set(p, [...(history.get(p) ?? []), o]);
          await sleep(50);
        }
      })();
      // The zombie's writes wait while this file exists: it holds a trained batch for certain.
      const hold = join(mkdtempSync(join(tmpdir(), 'recsys-hold-')), 'hold');
      const shared = JSON.parse(readFileSync(run.configFile, 'utf8')) as { trainer: object };
      const zombieConfig = writeTestConfig({
        ...shared,
        trainer: { ...shared.trainer, holdWritesFile: hold },
      });
      const zombie = await TrainerProcess.start(services, { configFile: zombieConfig });
      await waitUntil(
        async () => (await zombie.metric('recsys_trainer_events_total')) > 0,
        'the first instance to train',
        120_000,
        50,
      );
      writeFileSync(hold, '');
      await waitUntil(
        () => zombie.lines.some((l) => l.includes('writes held')),
        'the zombie to hold a trained batch',
        60_000,
        20,
      );
      const before = await run.store.getOffsets(run.groupId);
      // Frozen longer than the session timeout (6 s): the group gives the zombie's partitions to
      // `other`, which writes past where the zombie stopped. Only then does the zombie wake up and
      // write the batch it trained before.
      zombie.kill('SIGSTOP');
      const other = await TrainerProcess.start(services, { configFile: run.configFile });
      await waitUntil(
        async () => {
          const now = await run.store.getOffsets(run.groupId);
          // A partition the zombie had already finished cannot move: it has nothing to take over.
          return [...before].every(([p, o]) => (now.get(p) ?? 0) > o || o >= (ends.get(p) ?? 0));
        },
        'the other instance to take over every partition',
        90_000,
        200,
      );
      rmSync(hold);
      zombie.kill('SIGCONT');
      let fenced = 0;
      await waitUntil(
        async () => (fenced = await zombie.metric('recsys_trainer_fenced_batches_total')) > 0,
        'the late write to be fenced',
        60_000,
        100,
      );
      await waitForGroup(run.log, run.store, run.groupId, 300_000);
      watching = false;
      await watcher;
      zombie.kill('SIGTERM');
      other.kill('SIGTERM');
      await Promise.all([zombie.exited(), other.exited()]);

      expect(fenced).toBeGreaterThanOrEqual(1);
      for (const [partition, seen] of history) {
        const backwards = seen.filter((o, i) => i > 0 && o < (seen[i - 1] as number));
        expect(backwards, `partition ${partition}`).toEqual([]);
      }
      expect(await appliedTally(run.store, workload)).toEqual({ wrongCounts: [], missing: 0, duplicated: 0 });
    },
  );

  it(
    'dead-letters poison events with their reason and bytes, and applies all valid ones',
    { timeout: 200_000 },
    async () => {
      const run = await trainerRun({ partitions: 2 });
      cleanups.push(run.cleanup);
      const workload = await produceWorkload(run.log, {
        count: 5_000,
        users: 200,
        items: 100,
        seed: 5,
        poisonEvery: 97,
      });
      const trainer = await TrainerProcess.start(services, { configFile: run.configFile });
      await waitForGroup(run.log, run.store, run.groupId, 120_000);
      trainer.kill('SIGTERM');
      await trainer.exited();

      const users = [...workload.perUser.keys()];
      const counts = await run.store.getCounters('events:mf', users);
      expect(users.filter((u, i) => counts[i] !== workload.perUser.get(u))).toEqual([]);
      const dead: ConsumedRecord[] = [];
      const reader = kafkaLog(services, { topic: run.topic });
      const subscription = await reader.consume({
        groupId: `${run.groupId}-dlq-reader`,
        topic: 'dead-letter',
        eachBatch: async (batch, ctx) => {
          dead.push(...batch.records);
          ctx.markProcessed(batch.nextOffset);
        },
      });
      await waitUntil(() => dead.length >= workload.poison, 'the dead letters', 60_000);
      await subscription.stop();
      await reader.close();
      expect(dead).toHaveLength(workload.poison);
      const codes = new Set(dead.map((d) => d.headers[DEAD_LETTER_HEADERS.code]));
      expect([...codes].sort()).toEqual([
        'EVENT_INVALID',
        'FORBIDDEN_KEY',
        'MALFORMED_JSON',
        'PAYLOAD_TOO_LARGE',
      ]);
      for (const d of dead) {
        expect(d.headers[DEAD_LETTER_HEADERS.message]?.length).toBeGreaterThan(5);
        expect(Number(d.headers[DEAD_LETTER_HEADERS.sourceOffset])).toBeGreaterThanOrEqual(0);
      }
      expect(
        dead.some((d) => Buffer.from(d.value).toString().startsWith('{"userId": "u1", "itemId": ')),
      ).toBe(true);
    },
  );
});
