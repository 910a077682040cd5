import { Command, Option } from 'commander';
import {
  describeDeployment,
  loadConfig,
  type Config,
  type DeepPartial,
  type RecsysConfig,
} from '../shared/config/index.ts';
import { benchCommand } from './commands/bench.ts';
import { evalCommand } from './commands/eval.ts';
import { replayCommand } from './commands/replay.ts';
import { generateCommand } from './commands/generate.ts';
import { inspectCommand } from './commands/inspect.ts';
import { publishCommand } from './commands/publish.ts';
import { serveCommand } from './commands/serving.ts';
import { exportCommand, importCommand } from './commands/snapshot.ts';
import { startCommand } from './commands/start.ts';
import { trainerCommand } from './commands/trainer.ts';
import { EXIT } from './exit-codes.ts';
import { reportError, type CommandIo } from './run-command.ts';

interface GlobalOptions {
  readonly config?: string;
  readonly verbose?: boolean;
}

/** Runs the `recsys` command line; returns the exit code. */
export async function main(
  argv: readonly string[],
  io: Omit<CommandIo, 'verbose'> = process,
): Promise<number> {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  const ctx: CommandIo = { ...io, verbose };
  const program = new Command('recsys')
    .description(
      'Streaming, online-learning recommender: Kafka events in, per-event MF and NeuMF updates, top-k over HTTP.',
    )
    .option('-c, --config <file>', 'JSON config file (also RECSYS_CONFIG)')
    .option('-v, --verbose', 'show stack traces on errors')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  recsys start                          # trainer + serving + demo, embedded, http://127.0.0.1:8080
  recsys publish --api http://127.0.0.1:8080 -u u42 -i comedy-003
  recsys inspect user u42
  recsys <command> --help

Exit codes: 0 ok, 1 failed, 2 bad flags, 3 Kafka/Redis unreachable, 4 invalid configuration
(docs/cli.md).`,
    )
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();

  let code: number = EXIT.OK;
  const config = (overrides: DeepPartial<Config> = {}): RecsysConfig => {
    const opts = program.opts<GlobalOptions>();
    return loadConfig({ ...(opts.config === undefined ? {} : { file: opts.config }), overrides });
  };

  const add = (command: Command): void => {
    program.addCommand(command);
    const inherit = (cmd: Command, parent: Command): void => {
      cmd.copyInheritedSettings(parent);
      for (const sub of cmd.commands) inherit(sub, cmd);
    };
    inherit(command, program);
  };
  const setCode = (c: number): void => {
    code = c;
  };
  add(startCommand(config, ctx, setCode));
  add(evalCommand(ctx, config, setCode));
  add(trainerCommand(config, setCode));
  add(serveCommand(config, setCode));
  add(publishCommand(ctx, config, setCode));
  add(replayCommand(ctx, config, setCode));
  add(generateCommand(ctx, config, setCode));
  add(inspectCommand(ctx, config, setCode));
  add(exportCommand(ctx, config, setCode));
  add(importCommand(ctx, config, setCode));
  add(benchCommand(ctx, setCode));

  program
    .command('config')
    .description('print the effective configuration (defaults < file < environment) as JSON')
    .addOption(new Option('--deployment', 'print only which adapters are selected'))
    .addHelpText(
      'after',
      '\nExamples:\n  recsys config\n  KAFKA_BROKERS=localhost:9092 recsys config --deployment\n  recsys --config prod.json config',
    )
    .action((options: { deployment?: boolean }) => {
      const cfg = config();
      io.stdout.write(`${JSON.stringify(options.deployment ? describeDeployment(cfg) : cfg, null, 2)}\n`);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    return reportError(error, ctx);
  }
}
