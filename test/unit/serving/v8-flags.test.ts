import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../shared/config/index.ts';
import {
  HEAP_RESTART_MARK,
  heapRestartPlan,
  operatorNodeFlags,
  servingHeapFlags,
} from '../../../services/serving/process/v8-flags.ts';

describe('the serving heap flags', () => {
  const GiB = 1_073_741_824;

  it('default to a 16 MiB young generation and 512 MiB of old-generation headroom', () => {
    expect(servingHeapFlags(loadConfig({ env: {} }), 2, 24 * GiB, [])).toEqual([
      '--max-semi-space-size=16',
      '--initial-old-space-size=512',
    ]);
  });

  it('cap the headroom at an eighth of the memory per worker', () => {
    // 1 GiB for 2 workers: 1024 / 2 / 8 = 64 MiB each.
    expect(servingHeapFlags(loadConfig({ env: {} }), 2, GiB, [])).toEqual([
      '--max-semi-space-size=16',
      '--initial-old-space-size=64',
    ]);
    // 4 GiB for 4 workers: 128 MiB each; a smaller setting stays as set.
    const config = loadConfig({ env: { RECSYS_SERVING_HEAP_OLD_SPACE_MB: '100' } });
    expect(servingHeapFlags(config, 4, 4 * GiB, [])).toContain('--initial-old-space-size=100');
    // Under 8 MiB a worker: V8's own sizing (no flag rather than a tiny limit).
    expect(servingHeapFlags(loadConfig({ env: {} }), 16, 64 * 1_048_576, [])).toEqual([
      '--max-semi-space-size=16',
    ]);
  });

  it('leave a setting of 0 to V8, and keep flags the primary was started with', () => {
    const off = loadConfig({
      env: { RECSYS_SERVING_HEAP_SEMI_SPACE_MB: '0', RECSYS_SERVING_HEAP_OLD_SPACE_MB: '0' },
    });
    expect(servingHeapFlags(off, 2, 24 * GiB, [])).toEqual([]);
    // Inherited from the primary's own command line (cluster forks with its execArgv): not repeated.
    expect(
      servingHeapFlags(loadConfig({ env: {} }), 2, 24 * GiB, ['--max-semi-space-size=4', '--inspect']),
    ).toEqual(['--initial-old-space-size=512']);
    expect(
      servingHeapFlags(loadConfig({ env: {} }), 2, 24 * GiB, ['--initial-old-space-size', '900']),
    ).toEqual(['--max-semi-space-size=16']);
  });

  it('reject sizes outside their ranges', () => {
    expect(() => loadConfig({ env: { RECSYS_SERVING_HEAP_SEMI_SPACE_MB: '-1' } })).toThrow(/heapSemiSpaceMb/);
    expect(() => loadConfig({ env: { RECSYS_SERVING_HEAP_SEMI_SPACE_MB: '2048' } })).toThrow(
      /heapSemiSpaceMb/,
    );
    expect(() => loadConfig({ env: { RECSYS_SERVING_HEAP_OLD_SPACE_MB: 'lots' } })).toThrow(
      /RECSYS_SERVING_HEAP_OLD_SPACE_MB/,
    );
  });
});

describe('a single serving process restarting itself with its heap flags', () => {
  const GiB = 1_073_741_824;
  const config = loadConfig({ env: {} });

  it('restarts with the missing flags only', () => {
    expect(heapRestartPlan(config, {}, [], 24 * GiB, true)).toEqual({
      restart: ['--max-semi-space-size=16', '--initial-old-space-size=512'],
    });
    // One process in 1 GiB: an eighth.
    expect(heapRestartPlan(config, {}, ['--max-semi-space-size=32'], GiB, true)).toEqual({
      restart: ['--initial-old-space-size=128'],
    });
  });

  it('never twice, not when nothing is missing, and not where execve does not exist', () => {
    expect(heapRestartPlan(config, { [HEAP_RESTART_MARK]: '1' }, [], 24 * GiB, true)).toEqual({
      skip: 'already-restarted',
    });
    expect(
      heapRestartPlan(
        config,
        {},
        ['--max-semi-space-size=16', '--initial-old-space-size=512'],
        24 * GiB,
        true,
      ),
    ).toEqual({ skip: 'nothing-missing' });
    const off = loadConfig({
      env: { RECSYS_SERVING_HEAP_SEMI_SPACE_MB: '0', RECSYS_SERVING_HEAP_OLD_SPACE_MB: '0' },
    });
    expect(heapRestartPlan(off, {}, [], 24 * GiB, true)).toEqual({ skip: 'nothing-missing' });
    expect(heapRestartPlan(config, {}, [], 24 * GiB, false)).toEqual({ skip: 'unsupported' });
  });
});

describe("the operator's Node flags", () => {
  it('are the command line and NODE_OPTIONS, whose heap flags are then left alone', () => {
    const flags = operatorNodeFlags(['--inspect'], ' --max-semi-space-size=8  --trace-gc ');
    expect(flags).toEqual(['--inspect', '--max-semi-space-size=8', '--trace-gc']);
    expect(servingHeapFlags(loadConfig({ env: {} }), 1, 1_073_741_824 * 24, flags)).toEqual([
      '--initial-old-space-size=512',
    ]);
    expect(operatorNodeFlags([], undefined)).toEqual([]);
  });
});
