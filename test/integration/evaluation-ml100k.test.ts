import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEvaluation } from '../../shared/evaluation/run.ts';
import { ML100K, movieLensAvailable } from '../support/movielens.ts';

const available = movieLensAvailable();
const root = resolve(import.meta.dirname, '../..');

describe.runIf(available)('evaluation on MovieLens 100K', () => {
  it('checks the leave-one-out protocol itself: popularity gives HR@10 of about 0.31-0.32', async () => {
    const result = await runEvaluation({
      data: ML100K,
      protocol: 'loo',
      model: 'pop',
      feedback: 'implicit',
      seed: 1,
    });
    expect(result.metrics['users']).toBe(943);
    expect(result.metrics['hr@10']).toBeGreaterThan(0.3);
    expect(result.metrics['hr@10']).toBeLessThan(0.34);
  });

  it(
    'meets the random-split targets with MF: NDCG@10 >= 0.42 and precision@10 >= 0.37',
    { timeout: 120_000 },
    async () => {
      const result = await runEvaluation({
        data: ML100K,
        protocol: 'split',
        model: 'mf',
        feedback: 'implicit',
        seed: 1,
      });
      expect(result.metrics['ndcg@10']).toBeGreaterThanOrEqual(0.42);
      expect(result.metrics['precision@10']).toBeGreaterThanOrEqual(0.37);
    },
  );

  it(
    'meets the prequential rating targets in one pass: RMSE <= 0.945 and MAE <= 0.745',
    { timeout: 120_000 },
    async () => {
      const result = await runEvaluation({
        data: ML100K,
        protocol: 'prequential',
        model: 'mf',
        feedback: 'explicit',
        seed: 1,
        sample: 0.01,
      });
      expect(result.metrics['rmse']).toBeLessThanOrEqual(0.945);
      expect(result.metrics['mae']).toBeLessThanOrEqual(0.745);
    },
  );

  it('prints the documented JSON line from `recsys eval --json`', { timeout: 60_000 }, () => {
    const run = spawnSync(
      process.execPath,
      ['bin/recsys.mjs', 'eval', '--data', ML100K, '--protocol', 'split', '--model', 'pop', '--json'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(run.status, run.stderr).toBe(0);
    const last = run.stdout.trim().split('\n').pop() as string;
    const json = JSON.parse(last) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual([
      'eventsPerSecond',
      'metrics',
      'model',
      'protocol',
      'settings',
      'trainSeconds',
    ]);
    expect(json['protocol']).toBe('split');
    expect(Object.keys(json['metrics'] as object)).toEqual(
      expect.arrayContaining(['precision@10', 'recall@10', 'ndcg@10', 'map@10', 'mrr', 'coverage']),
    );
    expect(run.stdout).toContain('precision@10');
  });
});

describe.runIf(available)('evaluation on MovieLens 100K: the session signal and the stream', () => {
  it(
    'meets the leave-one-out targets with the hybrid (MF + session): HR@10 >= 0.68, NDCG@10 >= 0.40',
    { timeout: 240_000 },
    async () => {
      const result = await runEvaluation({
        data: ML100K,
        protocol: 'loo',
        model: 'hybrid',
        feedback: 'implicit',
        seed: 1,
      });
      expect(result.metrics['hr@10']).toBeGreaterThanOrEqual(0.68);
      expect(result.metrics['ndcg@10']).toBeGreaterThanOrEqual(0.4);
    },
  );

  it(
    'prequential implicit: MF reaches at least twice the HR@10 of popularity in one pass',
    { timeout: 240_000 },
    async () => {
      const run = (model: 'pop' | 'mf') =>
        runEvaluation({
          data: ML100K,
          protocol: 'prequential',
          model,
          feedback: 'implicit',
          seed: 1,
          sample: 0.5,
        });
      const pop = await run('pop');
      const mf = await run('mf');
      expect(pop.metrics['hr@10']).toBeGreaterThan(0.05);
      expect(mf.metrics['hr@10']).toBeGreaterThanOrEqual(2 * (pop.metrics['hr@10'] as number));
    },
  );
});
