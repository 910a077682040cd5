import { afterAll, describe, expect, inject, it } from 'vitest';
import { OwnRedis } from '../support/own-redis.ts';
import { TrainerProcess } from '../support/trainer-process.ts';
import { trainerRun } from '../support/trainer-run.ts';
import { sleep, waitUntil } from '../support/wait.ts';
import { produceWorkload, waitForGroup } from '../support/workload.ts';

const shared = inject('services');
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup().catch(() => undefined);
});

describe('trainer faults', () => {
  it(
    'survives Redis stopping for 10 seconds mid-stream: nothing lost, it recovers alone',
    { timeout: 300_000 },
    async () => {
      const redis = await OwnRedis.start();
      cleanups.push(() => redis.destroy());
      const services = { kafkaBrokers: shared.kafkaBrokers, redisUrl: redis.url };
      const run = await trainerRun({ partitions: 4, services });
      cleanups.push(run.cleanup);
      const workload = await produceWorkload(run.log, { count: 80_000, users: 2_000, items: 500, seed: 8 });
      const trainer = await TrainerProcess.start(services, { configFile: run.configFile });
      await waitUntil(
        async () => (await trainer.metric('recsys_trainer_events_total')) > 5_000,
        'training to be under way',
        120_000,
        50,
      );
      await run.store.close();
      await redis.stop();
      await sleep(10_000);
      const retries = await trainer.metric('recsys_trainer_retries_total');
      const healthy = await fetch(`${trainer.metricsUrl}/healthz`);
      const ready = await fetch(`${trainer.metricsUrl}/readyz`);
      await redis.resume();
      const { redisStore } = await import('../support/adapters.ts');
      const store = await redisStore(services, run.prefix);
      cleanups.push(() => store.close());
      await waitForGroup(run.log, store, run.groupId, 240_000);
      const deadLetters = await trainer.metric('recsys_trainer_dead_letters_total');
      trainer.kill('SIGTERM');
      expect((await trainer.exited()).code).toBe(0);

      expect(retries).toBeGreaterThan(0);
      expect(healthy.status).toBe(200); // alive, waiting for Redis
      expect(ready.status).toBe(503); // but not ready without it
      const users = [...workload.perUser.keys()];
      const counts = await store.getCounters('events:mf', users);
      expect(users.filter((u, i) => counts[i] !== workload.perUser.get(u))).toEqual([]);
      const applied = await store.getCounters(
        'applied:mf',
        Array.from({ length: workload.valid }, (_, i) => `e${i}`),
      );
      expect(applied.filter((v) => v !== 1).length).toBe(0);
      expect(deadLetters).toBe(0); // an outage never sends events to the dead-letter topic
    },
  );

  it(
    'loses and duplicates nothing while Redis is killed with SIGKILL six times mid-stream',
    { timeout: 420_000 },
    async () => {
      // With appendonly, Redis writes each command to its AOF before it answers: a SIGKILL (no
      // shutdown) loses nothing a client was told is written, so every commit the trainer saw
      // succeed is there after the restart, and what it did not see is retried or fenced.
      const redis = await OwnRedis.start();
      cleanups.push(() => redis.destroy());
      const services = { kafkaBrokers: shared.kafkaBrokers, redisUrl: redis.url };
      const run = await trainerRun({ partitions: 4, services });
      cleanups.push(run.cleanup);
      await run.store.close();
      const workload = await produceWorkload(run.log, { count: 100_000, users: 2_000, items: 500, seed: 9 });
      const trainer = await TrainerProcess.start(services, { configFile: run.configFile });
      const kills: number[] = [];
      for (let kill = 1; kill <= 6; kill++) {
        // Each kill lands while training is under way: more events applied than at the last one.
        const before = kills.at(-1) ?? 0;
        await waitUntil(
          async () => (await trainer.metric('recsys_trainer_events_total')) > before + 500,
          `training to go on before kill ${kill}`,
          120_000,
          50,
        );
        kills.push(await trainer.metric('recsys_trainer_events_total'));
        await redis.kill();
        await sleep(500);
        await redis.resume();
      }
      const { redisStore } = await import('../support/adapters.ts');
      const store = await redisStore(services, run.prefix);
      cleanups.push(() => store.close());
      await waitForGroup(run.log, store, run.groupId, 300_000);
      trainer.kill('SIGTERM');
      expect((await trainer.exited()).code).toBe(0);

      expect(kills).toHaveLength(6);
      expect(kills.at(-1)).toBeLessThan(workload.valid); // the last kill came before the end
      const users = [...workload.perUser.keys()];
      const counts = await store.getCounters('events:mf', users);
      expect(users.filter((u, i) => counts[i] !== workload.perUser.get(u))).toEqual([]);
      const applied = await store.getCounters(
        'applied:mf',
        Array.from({ length: workload.valid }, (_, i) => `e${i}`),
      );
      expect({
        missing: applied.filter((v) => v === 0).length,
        duplicated: applied.filter((v) => v > 1).length,
      }).toEqual({ missing: 0, duplicated: 0 });
    },
  );
});
