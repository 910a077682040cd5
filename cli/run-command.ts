import { CommanderError } from 'commander';
import { isRecsysError } from '../shared/errors/index.ts';
import type { RecsysConfig } from '../shared/config/index.ts';
import { createLogger, type Logger } from '../shared/observability/index.ts';
import { EXIT } from './exit-codes.ts';

export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly verbose: boolean;
}

/** Maps an error to an exit code and a message: no stack trace unless --verbose. */
export function reportError(error: unknown, io: CommandIo): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  if (isRecsysError(error)) {
    io.stderr.write(`recsys: ${error.message} [${error.code}]\n`);
    for (const issue of error.issues.slice(0, 10)) io.stderr.write(`  ${issue.path}: ${issue.reason}\n`);
    if (io.verbose && error.stack) io.stderr.write(`${error.stack}\n`);
    if (error.code === 'CONFIG_INVALID') return EXIT.CONFIG;
    if (error.code === 'STORE_UNAVAILABLE' || error.code === 'LOG_UNAVAILABLE') return EXIT.UNAVAILABLE;
    return EXIT.FAILURE;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`recsys: ${message}\n`);
  if (io.verbose && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
  else io.stderr.write('  (run with --verbose for details)\n');
  return EXIT.FAILURE;
}

/**
 * The logger of a one-shot command (publish, replay, inspect, export, import): silent unless
 * --verbose, since such a command reports its outcome itself (one line, a coded error) and
 * driver retries logged at error level would bury it.
 */
export function toolLogger(cfg: RecsysConfig, io: CommandIo, name: string): Logger {
  return createLogger({ level: io.verbose ? 'debug' : 'silent', pretty: cfg.log.pretty, name });
}
