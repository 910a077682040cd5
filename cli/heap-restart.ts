import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RecsysConfig } from '../shared/config/index.ts';
import {
  HEAP_RESTART_MARK,
  heapRestartPlan,
  operatorNodeFlags,
  restartWithHeapFlags,
  servingMemoryBytes,
} from '../services/serving/process/v8-flags.ts';

/**
 * Not configuration: the environment this process was launched with, which a process restarted
 * in place must get unchanged, and whose NODE_OPTIONS Node itself read (serving's heap flags
 * leave flags given there to the operator).
 */
export function launchEnvironment(): NodeJS.ProcessEnv {
  // eslint-disable-next-line no-restricted-syntax
  return process.env;
}

const COMMAND = resolve(import.meta.dirname, '../bin/recsys.mjs');

/** True when this process was started as the `recsys` command (not, say, a test runner calling main). */
function startedAsCommand(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(COMMAND);
  } catch {
    return false;
  }
}

/**
 * A process that serves requests itself (`recsys serving` as one process, `recsys bench serving`)
 * and was started as the command without serving's heap flags (docs/serving.md, "Garbage
 * collection") replaces itself with them: same pid, arguments and environment. Returns when
 * nothing needs doing or it cannot be done (then the process runs with what it was started with).
 */
export function restartWithServingHeapFlags(config: RecsysConfig): void {
  if (!startedAsCommand()) return;
  const env = launchEnvironment();
  const plan = heapRestartPlan(
    config,
    env,
    operatorNodeFlags(process.execArgv, env.NODE_OPTIONS),
    servingMemoryBytes(),
    typeof process.execve === 'function' && process.platform !== 'win32',
  );
  // The mark has done its job once read: processes this one starts must decide for themselves.
  if ('skip' in plan && plan.skip === 'already-restarted') delete env[HEAP_RESTART_MARK];
  if (!('restart' in plan)) return;
  try {
    restartWithHeapFlags(plan.restart, process.argv[1] as string, process.argv.slice(2), env);
  } catch (error) {
    // Still this process, as started: it serves, with V8's own heap sizing.
    process.stderr.write(
      `recsys: could not restart with the heap flags ${plan.restart.join(' ')} (${(error as Error).message}); continuing without them\n`,
    );
  }
}
