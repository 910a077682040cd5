import { openEventLog, openModelStore } from '../../shared/adapters/open.ts';
import type { RecsysConfig } from '../../shared/config/index.ts';
import { createLogger, createMetricsRegistry } from '../../shared/observability/index.ts';
import { startTrainer } from './trainer.ts';

/**
 * Runs the trainer as a process: opens the configured adapters, starts, and on SIGTERM or SIGINT
 * finishes the batch in progress, writes it, leaves the groups and exits 0 within
 * trainer.shutdownTimeoutMs (a second signal exits at once). Resolves with the exit code.
 */
export async function runTrainerProcess(config: RecsysConfig): Promise<number> {
  const logger = createLogger({ level: config.log.level, pretty: config.log.pretty, name: 'recsys-trainer' });
  const registry = createMetricsRegistry({ service: 'trainer' });
  const eventLog = openEventLog(config, logger);
  const store = await openModelStore(config, logger, 'recsys-trainer');
  let fatal: unknown;
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const trainer = await startTrainer({
    config,
    eventLog,
    store,
    registry,
    logger,
    onFatal: (error) => {
      fatal = error;
      wake();
    },
  });
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // A signal to the process group can arrive twice (directly and through the launcher in
    // bin/recsys.mjs): only a second signal a while after the first means "exit now".
    if (firstSignalAt > 0) {
      if (Date.now() - firstSignalAt < 2_000) return;
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    firstSignalAt = Date.now();
    logger.info({ signal }, 'stopping: finishing the batch in progress');
    wake();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await stopped;
  const deadline = setTimeout(() => {
    logger.error({ timeoutMs: config.trainer.shutdownTimeoutMs }, 'shutdown took too long; exiting');
    process.exit(1);
  }, config.trainer.shutdownTimeoutMs);
  deadline.unref();
  await trainer.stop();
  await eventLog.close();
  await store.close();
  clearTimeout(deadline);
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  return fatal === undefined ? 0 : 1;
}
