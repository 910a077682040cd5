import type { ModelName } from '../../shared/model/registry.ts';
import { Command } from 'commander';
import { parseModels, parsePort } from '../flags.ts';
import type { RecsysConfig } from '../../shared/config/index.ts';
import { runTrainerProcess } from '../../services/trainer/main.ts';
import type { DeepPartial, Config } from '../../shared/config/index.ts';

export function trainerCommand(
  loadConfig: (overrides: DeepPartial<Config>) => RecsysConfig,
  setCode: (code: number) => void,
): Command {
  return new Command('trainer')
    .description(
      'consume interaction events and keep the models in the model store current (one consumer group per model)',
    )
    .option(
      '--models <list>',
      'models to train, comma-separated: mf, neumf (default from config: mf,neumf)',
      parseModels,
    )
    .option('--metrics-port <port>', 'port of /metrics, /healthz and /readyz', parsePort)
    .addHelpText(
      'after',
      `
Examples:
  KAFKA_BROKERS=localhost:9092 REDIS_URL=redis://localhost:6379 recsys trainer
  recsys trainer --models mf --metrics-port 9465

Without KAFKA_BROKERS and REDIS_URL it runs on the embedded event log and model store (data/).
Stop it with SIGTERM or Ctrl-C: it finishes the batch in progress, writes it and exits 0.`,
    )
    .action(async (flags: { models?: ModelName[]; metricsPort?: number }) => {
      const config = loadConfig({
        trainer: {
          ...(flags.models ? { models: flags.models } : {}),
          ...(flags.metricsPort !== undefined ? { metricsPort: flags.metricsPort } : {}),
        },
      });
      setCode(await runTrainerProcess(config));
    });
}
