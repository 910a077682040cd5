import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseWorkers } from '../../../cli/flags.ts';
import { loadConfig } from '../../../shared/config/index.ts';
import { RecsysError } from '../../../shared/errors/index.ts';
import { assertClusterable, servingWorkerCount, workerHeapFlags } from '../../../services/serving/cluster.ts';

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

describe("the workers' V8 heap flags", () => {
  const GiB = 1_073_741_824;

  it('default to a 16 MiB young generation and 512 MiB of old-generation headroom', () => {
    expect(workerHeapFlags(loadConfig({ env: {} }), 2, 24 * GiB, [])).toEqual([
      '--max-semi-space-size=16',
      '--initial-old-space-size=512',
    ]);
  });

  it('cap the headroom at an eighth of the memory per worker', () => {
    // 1 GiB for 2 workers: 1024 / 2 / 8 = 64 MiB each.
    expect(workerHeapFlags(loadConfig({ env: {} }), 2, GiB, [])).toEqual([
      '--max-semi-space-size=16',
      '--initial-old-space-size=64',
    ]);
    // 4 GiB for 4 workers: 128 MiB each; a smaller setting stays as set.
    const config = loadConfig({ env: { RECSYS_SERVING_WORKER_OLD_SPACE_MB: '100' } });
    expect(workerHeapFlags(config, 4, 4 * GiB, [])).toContain('--initial-old-space-size=100');
    // Under 8 MiB a worker: V8's own sizing (no flag rather than a tiny limit).
    expect(workerHeapFlags(loadConfig({ env: {} }), 16, 64 * 1_048_576, [])).toEqual([
      '--max-semi-space-size=16',
    ]);
  });

  it('leave a setting of 0 to V8, and keep flags the primary was started with', () => {
    const off = loadConfig({
      env: { RECSYS_SERVING_WORKER_SEMI_SPACE_MB: '0', RECSYS_SERVING_WORKER_OLD_SPACE_MB: '0' },
    });
    expect(workerHeapFlags(off, 2, 24 * GiB, [])).toEqual([]);
    // Inherited from the primary's own command line (cluster forks with its execArgv): not repeated.
    expect(
      workerHeapFlags(loadConfig({ env: {} }), 2, 24 * GiB, ['--max-semi-space-size=4', '--inspect']),
    ).toEqual(['--initial-old-space-size=512']);
    expect(
      workerHeapFlags(loadConfig({ env: {} }), 2, 24 * GiB, ['--initial-old-space-size', '900']),
    ).toEqual(['--max-semi-space-size=16']);
  });

  it('reject sizes outside their ranges', () => {
    expect(() => loadConfig({ env: { RECSYS_SERVING_WORKER_SEMI_SPACE_MB: '-1' } })).toThrow(
      /workerSemiSpaceMb/,
    );
    expect(() => loadConfig({ env: { RECSYS_SERVING_WORKER_SEMI_SPACE_MB: '2048' } })).toThrow(
      /workerSemiSpaceMb/,
    );
    expect(() => loadConfig({ env: { RECSYS_SERVING_WORKER_OLD_SPACE_MB: 'lots' } })).toThrow(
      /RECSYS_SERVING_WORKER_OLD_SPACE_MB/,
    );
  });
});
