import { openEventLog, openModelStore } from '../../shared/adapters/open.ts';
import type { RecsysConfig } from '../../shared/config/index.ts';
import { createLogger, createMetricsRegistry } from '../../shared/observability/index.ts';
import { ProcessLifetime } from '../../shared/process/lifetime.ts';
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
  const lifetime = new ProcessLifetime(logger, 'stopping: finishing the batch in progress');
  const trainer = await startTrainer({
    config,
    eventLog,
    store,
    registry,
    logger,
    onFatal: (error) => {
      fatal = error;
      lifetime.stop();
    },
  });
  await lifetime.shutdown(config.trainer.shutdownTimeoutMs, async () => {
    await trainer.stop();
    await eventLog.close();
    await store.close();
  });
  return fatal === undefined ? 0 : 1;
}
