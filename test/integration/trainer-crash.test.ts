import { afterAll, describe, expect, inject, it } from 'vitest';
import { Random } from '../../shared/model/random.ts';
import type { ModelStore } from '../../shared/ports/index.ts';
import { deleteKeys, deleteTopics, kafkaLog, redisStore, uniqueName } from '../support/adapters.ts';
import { TrainerProcess, writeTestConfig } from '../support/trainer-process.ts';
import { sleep } from '../support/wait.ts';
import { produceWorkload, waitForGroup } from '../support/workload.ts';

const services = inject('services');
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup().catch(() => undefined);
});

/** A fresh topic, key prefix and group for one run, with a config file for its processes. */
async function setup(partitions: number) {
  const topic = uniqueName('crash');
  const prefix = uniqueName('crash');
  const groupPrefix = uniqueName('g');
  const log = kafkaLog(services, { topic, partitions });
  await log.ensureTopics();
  const store = await redisStore(services, prefix);
  const configFile = writeTestConfig({
    kafka: { topic, partitions, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 },
    redis: { keyPrefix: prefix },
    trainer: { models: ['mf'], groupPrefix, metricsPort: 0, auditEventIds: true, retryDelayMs: 100 },
    model: { mf: { dim: 16, negatives: 2 } },
  });
  cleanups.push(async () => {
    await log.close();
    await store.close();
    await deleteTopics(services, [topic, `${topic}.dlq`]);
    await deleteKeys(services, prefix);
  });
  return { topic, prefix, groupId: `${groupPrefix}-mf`, log, store, configFile };
}

async function appliedOnce(
  store: ModelStore,
  count: number,
): Promise<{ distinct: number; duplicates: number }> {
  const ids = Array.from({ length: count }, (_, i) => `e${i}`);
  const values = await store.getCounters('applied:mf', ids);
  return { distinct: values.filter((v) => v >= 1).length, duplicates: values.filter((v) => v > 1).length };
}

async function mfRows(store: ModelStore, table: string, ids: string[]) {
  const rows = await store.getRows(table, ids);
  return rows.map((r) =>
    r === undefined
      ? undefined
      : Buffer.concat([
          Buffer.from(r.vector.buffer),
          Buffer.from(r.state.buffer),
          Buffer.from(Float64Array.of(r.bias, r.count).buffer),
        ]),
  );
}

describe('trainer crash safety (real Kafka and Redis, SIGKILL)', () => {
  it(
    'applies every one of 200,000 events exactly once while being killed at random moments',
    { timeout: 600_000 },
    async () => {
      const run = await setup(4);
      const workload = await produceWorkload(run.log, {
        count: 200_000,
        users: 5_000,
        items: 2_000,
        seed: 1,
      });
      const random = new Random(99);
      let kills = 0;
      while (kills < 10) {
        const trainer = await TrainerProcess.start(services, { configFile: run.configFile });
        await sleep(300 + random.int(2_500));
        trainer.kill('SIGKILL');
        await trainer.exited();
        kills++;
      }
      const progressBeforeFinal = [...(await run.store.getOffsets(run.groupId)).values()].reduce(
        (a, b) => a + b,
        0,
      );
      const last = await TrainerProcess.start(services, { configFile: run.configFile });
      await waitForGroup(run.log, run.store, run.groupId, 300_000);
      last.kill('SIGTERM');
      expect((await last.exited()).code).toBe(0);

      expect(kills).toBeGreaterThanOrEqual(10);
      expect(progressBeforeFinal).toBeGreaterThan(0); // the kills did interrupt work in progress
      const users = [...workload.perUser.keys()];
      const counts = await run.store.getCounters('events:mf', users);
      const wrong = users.filter((u, i) => counts[i] !== workload.perUser.get(u));
      expect(wrong).toEqual([]);
      const applied = await appliedOnce(run.store, workload.valid);
      expect(applied).toEqual({ distinct: workload.valid, duplicates: 0 });
    },
  );

  it(
    'ends with rows byte-identical to an uninterrupted run over the same events (one partition)',
    { timeout: 600_000 },
    async () => {
      const events = { count: 40_000, users: 800, items: 600, seed: 7 };
      const calm = await setup(1);
      await produceWorkload(calm.log, events);
      const uninterrupted = await TrainerProcess.start(services, { configFile: calm.configFile });
      await waitForGroup(calm.log, calm.store, calm.groupId, 300_000);
      uninterrupted.kill('SIGTERM');
      await uninterrupted.exited();

      const rough = await setup(1);
      await produceWorkload(rough.log, events);
      const random = new Random(5);
      for (let kill = 0; kill < 10; kill++) {
        const trainer = await TrainerProcess.start(services, { configFile: rough.configFile });
        await sleep(200 + random.int(1_500));
        trainer.kill('SIGKILL');
        await trainer.exited();
      }
      const finisher = await TrainerProcess.start(services, { configFile: rough.configFile });
      await waitForGroup(rough.log, rough.store, rough.groupId, 300_000);
      finisher.kill('SIGTERM');
      await finisher.exited();

      const users = Array.from({ length: events.users }, (_, i) => `u${i}`);
      const items = Array.from({ length: events.items }, (_, i) => `i${i}`);
      for (const [table, ids] of [
        ['mf:user', users],
        ['mf:item', items],
      ] as const) {
        const a = await mfRows(calm.store, table, ids);
        const b = await mfRows(rough.store, table, ids);
        expect(a.filter((r) => r !== undefined).length).toBeGreaterThan(ids.length / 2);
        const different = ids.filter(
          (_, i) =>
            (a[i] === undefined) !== (b[i] === undefined) || (a[i] !== undefined && !a[i]!.equals(b[i]!)),
        );
        expect(different, `${table} rows that differ`).toEqual([]);
      }
    },
  );
});
