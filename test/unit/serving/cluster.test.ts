import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseWorkers } from '../../../cli/flags.ts';
import { loadConfig } from '../../../shared/config/index.ts';
import { RecsysError } from '../../../shared/errors/index.ts';
import { assertClusterable, servingWorkerCount } from '../../../services/serving/process/cluster.ts';

const shared = { REDIS_URL: 'redis://127.0.0.1:6379', KAFKA_BROKERS: '127.0.0.1:9092' };

describe('serving.workers', () => {
  it('defaults to one process, 0 meaning one per available core', () => {
    expect(servingWorkerCount(loadConfig({ env: {} }))).toBe(1);
    expect(servingWorkerCount(loadConfig({ env: { RECSYS_SERVING_WORKERS: '0' } }))).toBe(
      availableParallelism(),
    );
    expect(servingWorkerCount(loadConfig({ env: { RECSYS_SERVING_WORKERS: '3' } }))).toBe(3);
  });

  it('needs both Redis and Kafka above one worker, and says so', () => {
    expect(() =>
      assertClusterable(loadConfig({ env: { ...shared, RECSYS_SERVING_WORKERS: '2' } })),
    ).not.toThrow();
    expect(() => assertClusterable(loadConfig({ env: { RECSYS_SERVING_WORKERS: '1' } }))).not.toThrow();
    for (const env of [
      { RECSYS_SERVING_WORKERS: '2' },
      { REDIS_URL: shared.REDIS_URL, RECSYS_SERVING_WORKERS: '2' },
      { KAFKA_BROKERS: shared.KAFKA_BROKERS, RECSYS_SERVING_WORKERS: '4' },
    ]) {
      let caught: unknown;
      try {
        assertClusterable(loadConfig({ env }));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(RecsysError);
      expect((caught as RecsysError).code).toBe('CONFIG_INVALID');
      expect((caught as RecsysError).message).toMatch(/REDIS_URL and KAFKA_BROKERS/);
    }
  });

  it('rejects counts outside 0-256 in the environment and on the command line', () => {
    expect(() => loadConfig({ env: { RECSYS_SERVING_WORKERS: '-1' } })).toThrow(/workers/);
    expect(() => loadConfig({ env: { RECSYS_SERVING_WORKERS: '257' } })).toThrow(/workers/);
    expect(parseWorkers('0')).toBe(0);
    expect(parseWorkers('8')).toBe(8);
    for (const bad of ['-1', '1.5', 'two', '', '257'])
      expect(() => parseWorkers(bad)).toThrow(/whole number/);
  });
});
