import { totalmem } from 'node:os';
import type { RecsysConfig } from '../../../shared/config/index.ts';

const SEMI_SPACE = '--max-semi-space-size';
const OLD_SPACE = '--initial-old-space-size';

/** Whether `arg` is `flag` (`--flag value`) or `--flag=value`. */
function isFlag(arg: string, flag: string): boolean {
  return arg === flag || arg.startsWith(`${flag}=`);
}

/**
 * The V8 heap flags a serving process runs with (docs/serving.md, "Garbage collection"): a young
 * generation of serving.heapSemiSpaceMb, and an old generation that may grow to
 * serving.heapOldSpaceMb before its first full collection, at most an eighth of `memoryBytes` per
 * serving process (what the machine or the container's limit leaves each). A flag already in
 * `execArgv` (`node --max-semi-space-size=... recsys serving`) is the operator's and wins.
 */
export function servingHeapFlags(
  config: RecsysConfig,
  processes: number,
  memoryBytes: number,
  execArgv: readonly string[],
): string[] {
  const given = (flag: string) => execArgv.some((arg) => isFlag(arg, flag));
  const flags: string[] = [];
  const semi = config.serving.heapSemiSpaceMb;
  if (semi > 0 && !given(SEMI_SPACE)) flags.push(`${SEMI_SPACE}=${semi}`);
  const cap = Math.floor(memoryBytes / 1_048_576 / Math.max(1, processes) / 8);
  const old = Math.min(config.serving.heapOldSpaceMb, cap);
  if (old > 0 && !given(OLD_SPACE)) flags.push(`${OLD_SPACE}=${old}`);
  return flags;
}

/** Memory the serving processes may use: the container's limit when there is one, else the machine's. */
export function servingMemoryBytes(): number {
  const constrained = process.constrainedMemory();
  return constrained > 0 && constrained < totalmem() ? constrained : totalmem();
}

/**
 * Node options the operator gave a process: its command line's and NODE_OPTIONS' (which Node reads
 * first, so a flag added on the command line would override it).
 */
export function operatorNodeFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/).filter(Boolean)];
}

/** The heap flags this process runs with (for the start-up log). */
export function currentHeapFlags(): string[] {
  return process.execArgv.filter((arg) => isFlag(arg, SEMI_SPACE) || isFlag(arg, OLD_SPACE));
}

/** Set in the environment of a process restarted with its heap flags: never restarted twice. */
export const HEAP_RESTART_MARK = 'RECSYS_SERVING_HEAP_APPLIED';

/**
 * What a single serving process started as the `recsys` command does about its heap flags: V8
 * reads them only at start, so when some are missing the process replaces itself
 * (`process.execve`: the same pid, arguments and environment, so supervisors and signals see no
 * difference) with them added. Returns the flags to restart with, or why not.
 */
export function heapRestartPlan(
  config: RecsysConfig,
  env: NodeJS.ProcessEnv,
  execArgv: readonly string[],
  memoryBytes: number,
  canExecve: boolean,
): { restart: string[] } | { skip: 'already-restarted' | 'nothing-missing' | 'unsupported' } {
  if (env[HEAP_RESTART_MARK] === '1') return { skip: 'already-restarted' };
  const flags = servingHeapFlags(config, 1, memoryBytes, execArgv);
  if (flags.length === 0) return { skip: 'nothing-missing' };
  if (!canExecve) return { skip: 'unsupported' };
  return { restart: flags };
}

/**
 * Replaces this process with itself plus `flags` (never returns when it works). `script` and
 * `args` are the command line after the Node executable; `env` the environment to keep.
 */
export function restartWithHeapFlags(
  flags: readonly string[],
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): void {
  process.execve?.(process.execPath, [process.execPath, ...process.execArgv, ...flags, script, ...args], {
    ...env,
    [HEAP_RESTART_MARK]: '1',
  });
}
