import { afterAll, describe, expect, inject, it } from 'vitest';
import { OwnKafka } from '../support/own-kafka.ts';
import { OwnRedis } from '../support/own-redis.ts';
import { TrainerProcess } from '../support/trainer-process.ts';
import { trainerRun } from '../support/trainer-run.ts';
import { sleep, waitUntil } from '../support/wait.ts';
import { appliedTally, produceWorkload, waitForGroup } from '../support/workload.ts';

const shared = inject('services');
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup().catch(() => undefined);
});

/**
 * Runs `fault` `times` times, each once the trainer has applied 500 more events than at the
 * last one (so each lands while training is under way); returns the events counted at each.
 */
async function faultsWhileTraining(
  trainer: TrainerProcess,
  times: number,
  fault: () => Promise<void>,
): Promise<number[]> {
  const at: number[] = [];
  for (let n = 1; n <= times; n++) {
    const before = at.at(-1) ?? 0;
    await waitUntil(
      async () => (await trainer.metric('recsys_trainer_events_total')) > before + 500,
      `training to go on before fault ${n}`,
      180_000,
      50,
    );
    at.push(await trainer.metric('recsys_trainer_events_total'));
    await fault();
  }
  return at;
}

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
      expect(await appliedTally(store, workload)).toEqual({ wrongCounts: [], missing: 0, duplicated: 0 });
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
      const kills = await faultsWhileTraining(trainer, 6, async () => {
        await redis.kill();
        await sleep(500);
        await redis.resume();
      });
      const { redisStore } = await import('../support/adapters.ts');
      const store = await redisStore(services, run.prefix);
      cleanups.push(() => store.close());
      await waitForGroup(run.log, store, run.groupId, 300_000);
      trainer.kill('SIGTERM');
      expect((await trainer.exited()).code).toBe(0);

      expect(kills).toHaveLength(6);
      expect(kills.at(-1)).toBeLessThan(workload.valid); // the last kill came before the end
      expect(await appliedTally(store, workload)).toEqual({ wrongCounts: [], missing: 0, duplicated: 0 });
    },
  );

  it(
    'loses and duplicates nothing while its Kafka broker is killed with SIGKILL twice mid-stream',
    { timeout: 480_000 },
    async () => {
      const kafka = await OwnKafka.start();
      cleanups.push(() => kafka.destroy());
      const services = { kafkaBrokers: kafka.brokers, redisUrl: shared.redisUrl };
      const run = await trainerRun({ partitions: 4, services });
      cleanups.push(run.cleanup);
      const workload = await produceWorkload(run.log, { count: 100_000, users: 2_000, items: 500, seed: 10 });
      const trainer = await TrainerProcess.start(services, { configFile: run.configFile });
      const kills = await faultsWhileTraining(trainer, 2, async () => {
        await kafka.kill();
        await sleep(1_000);
        await kafka.resume();
      });
      await waitForGroup(run.log, run.store, run.groupId, 300_000);
      const deadLetters = await trainer.metric('recsys_trainer_dead_letters_total');
      trainer.kill('SIGTERM');
      expect((await trainer.exited()).code).toBe(0);

      expect(kills).toHaveLength(2);
      expect(kills.at(-1)).toBeLessThan(workload.valid); // the last kill came before the end
      expect(await appliedTally(run.store, workload)).toEqual({ wrongCounts: [], missing: 0, duplicated: 0 });
      expect(deadLetters).toBe(0);
    },
  );

  it(
    'keeps training on a 3-broker cluster (replication 3, min.insync 2) with one broker killed',
    { timeout: 480_000 },
    async () => {
      const kafka = await OwnKafka.start(3);
      cleanups.push(() => kafka.destroy());
      const services = { kafkaBrokers: kafka.brokers, redisUrl: shared.redisUrl };
      const run = await trainerRun({ partitions: 4, services, config: { kafka: { replicationFactor: 3 } } });
      cleanups.push(run.cleanup);
      const workload = await produceWorkload(run.log, { count: 100_000, users: 2_000, items: 500, seed: 11 });
      const trainer = await TrainerProcess.start(services, { configFile: run.configFile });
      // Broker 1 (the leader of some partitions and maybe of the group) dies; the others go on.
      const [killedAt] = await faultsWhileTraining(trainer, 1, () => kafka.kill(0));
      await waitUntil(
        async () => (await trainer.metric('recsys_trainer_events_total')) > (killedAt as number) + 2_000,
        'training to go on with one broker down',
        180_000,
        50,
      );
      // The test's own admin client keeps asking the dead broker for offsets: bring it back first.
      await kafka.resume(0);
      await waitForGroup(run.log, run.store, run.groupId, 300_000);
      trainer.kill('SIGTERM');
      expect((await trainer.exited()).code).toBe(0);

      expect(killedAt).toBeLessThan(workload.valid);
      expect(await appliedTally(run.store, workload)).toEqual({ wrongCounts: [], missing: 0, duplicated: 0 });
    },
  );
});
