import type { ModelName } from '../../shared/model/registry.ts';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Config, DeepPartial, RecsysConfig } from '../../shared/config/index.ts';
import { EVAL_MODELS, runEvaluation, type EvaluationOptions } from '../../shared/evaluation/run.ts';
import { parseModels } from '../flags.ts';
import { runServedEvaluation } from './eval-serving.ts';
import { EXIT } from '../exit-codes.ts';
import { progressBar } from '../progress.ts';
import type { CommandIo } from '../run-command.ts';
import { formatTable } from '../table.ts';

const DEFAULT_DATA = '../shared/datasets/ml-100k';

interface EvalFlags {
  data: string;
  protocol: EvaluationOptions['protocol'];
  model: EvaluationOptions['model'] | 'serving';
  events?: string;
  items?: string;
  users?: string;
  skipInvalid?: boolean;
  context: boolean;
  lift?: boolean;
  block?: number;
  freshness?: number;
  models?: ModelName[];
  feedback: EvaluationOptions['feedback'];
  epochs?: number;
  seed: number;
  json?: boolean;
  order?: 'time' | 'shuffle';
  features?: boolean;
  sample?: number;
  dim?: number;
  lr?: number;
  negatives?: number;
  loss?: 'bpr' | 'logistic';
  backend?: EvaluationOptions['backend'];
  sessionWeight?: number;
  window?: number;
  recent?: number;
}

export function evalCommand(
  io: CommandIo,
  loadConfig: (overrides: DeepPartial<Config>) => RecsysConfig,
  setCode: (code: number) => void,
): Command {
  return new Command('eval')
    .description(
      'evaluate a model on MovieLens 100K under a protocol (loo, split or prequential), or the served pipeline (--model serving) on any data set',
    )
    .option('--data <dir>', 'the ml-100k folder, or demo (the demo world; --model serving)', DEFAULT_DATA)
    .option(
      '--events <file>',
      '--model serving: events as JSON lines or CSV with a header (context.<field> columns)',
    )
    .option('--items <file>', '--model serving: catalog items as JSON lines')
    .option('--users <file>', '--model serving: users as JSON lines')
    .option('--skip-invalid', 'leave out bad rows of --events/--items/--users (counted) instead of stopping')
    .option(
      '--no-context',
      '--model serving: strip the context from events and requests, MF without context rows',
    )
    .option('--lift', '--model serving: run with and without context, and print the lift')
    .option(
      '--freshness <ms>',
      '--model serving: how far behind the stream (its own time) serving may be (default 1000)',
      positiveInt,
    )
    .option(
      '--block <n>',
      '--model serving: at most this many events requested, then learnt, together (default 100)',
      positiveInt,
    )
    .option(
      '--models <list>',
      '--model serving: models the trainer learns (default: the configuration)',
      parseModels,
    )
    .addOption(
      new Option('--protocol <name>', 'evaluation protocol')
        .choices(['loo', 'split', 'prequential'])
        .default('loo'),
    )
    .addOption(
      new Option(
        '--model <name>',
        'model (hybrid: MF plus the session signal; serving: the whole served pipeline, prequential)',
      )
        .choices([...EVAL_MODELS, 'serving'])
        .default('mf'),
    )
    .addOption(
      new Option(
        '--feedback <kind>',
        'implicit: every rating is a positive interaction; explicit: learn the rating (mf)',
      )
        .choices(['implicit', 'explicit'])
        .default('implicit'),
    )
    .option('--epochs <n>', 'training passes over the training stream (loo, split)', positiveInt)
    .option('--seed <n>', 'random seed', nonNegativeInt, 1)
    .addOption(new Option('--order <order>', 'training order of each epoch').choices(['time', 'shuffle']))
    .option('--features', 'use content features (genres, decade; age, gender, occupation)')
    .option('--no-features', 'ignore content features')
    .option('--sample <share>', 'prequential: share of events ranked before learning (0-1]', share)
    .option('--dim <n>', 'MF embedding size', positiveInt)
    .option('--lr <rate>', 'learning rate of the embedding rows', positiveNumber)
    .option('--negatives <n>', 'sampled negatives per positive', positiveInt)
    .addOption(new Option('--loss <loss>', 'MF implicit loss').choices(['bpr', 'logistic']))
    .addOption(
      new Option('--backend <name>', 'TF.js backend for NeuMF').choices([
        'auto',
        'tensorflow',
        'wasm',
        'cpu',
      ]),
    )
    .option('--session-weight <w>', 'hybrid: weight of the session signal against MF', positiveNumber)
    .option('--window <n>', 'session signal: previous events each event is paired with', positiveInt)
    .option('--recent <n>', "session signal: the user's latest items a query starts from", positiveInt)
    .option('--json', 'print one JSON object as the last line of stdout')
    .addHelpText(
      'after',
      `
Examples:
  recsys eval --protocol loo --model mf
  recsys eval --protocol split --model mf --epochs 40 --json
  recsys eval --protocol prequential --model mf --feedback explicit
  recsys eval --protocol loo --model neumf --epochs 10 --backend wasm
  recsys eval --protocol loo --model hybrid --session-weight 1.5
  recsys eval --data /path/to/ml-100k --protocol loo --model pop
  recsys eval --model serving --data demo --lift
  recsys eval --model serving --events app.csv --items items.jsonl --skip-invalid

Results and the published figures they compare with: docs/evaluation.md`,
    )
    .action(async (flags: EvalFlags) => {
      if (flags.model === 'serving' || flags.events !== undefined) {
        const ok = await runServedEvaluation(flags, loadConfig, io);
        setCode(ok ? EXIT.OK : EXIT.FAILURE);
        return;
      }
      const model = flags.model;
      const progress = progressBar();
      const mf = {
        ...(flags.dim !== undefined ? { dim: flags.dim } : {}),
        ...(flags.negatives !== undefined ? { negatives: flags.negatives } : {}),
        ...(flags.loss !== undefined ? { loss: flags.loss } : {}),
      };
      const options: EvaluationOptions = {
        data: flags.data,
        protocol: flags.protocol,
        model,
        feedback: flags.feedback,
        seed: flags.seed,
        ...(flags.epochs !== undefined ? { epochs: flags.epochs } : {}),
        ...(flags.order !== undefined ? { order: flags.order } : {}),
        ...(flags.features !== undefined ? { features: flags.features } : {}),
        ...(flags.sample !== undefined ? { sample: flags.sample } : {}),
        ...(flags.backend !== undefined ? { backend: flags.backend } : {}),
        ...(flags.lr !== undefined ? { learningRate: flags.lr } : {}),
        mf,
        neumf: flags.negatives !== undefined ? { negatives: flags.negatives } : {},
        transitions: {
          ...(flags.window !== undefined ? { window: flags.window } : {}),
          ...(flags.recent !== undefined ? { recent: flags.recent } : {}),
        },
        ...(flags.sessionWeight !== undefined ? { sessionWeight: flags.sessionWeight } : {}),
      };
      const result = await runEvaluation(options, (phase, done, total) =>
        progress.update(phase, done, total),
      );
      progress.done();
      const rows: string[][] = [['metric', 'value']];
      for (const [name, value] of Object.entries(result.metrics)) {
        rows.push([name, Number.isInteger(value) ? String(value) : value.toFixed(4)]);
      }
      rows.push(['train seconds', result.trainSeconds.toFixed(2)]);
      rows.push(['events/second', Math.round(result.eventsPerSecond).toString()]);
      io.stdout.write(
        `${result.protocol} / ${result.model} (${options.feedback}, seed ${options.seed})\n${formatTable(rows)}\n`,
      );
      if (flags.json === true) {
        const { protocol, model, settings, metrics, trainSeconds, eventsPerSecond } = result;
        io.stdout.write(
          `${JSON.stringify({ protocol, model, settings, metrics, trainSeconds, eventsPerSecond })}\n`,
        );
      }
      setCode(EXIT.OK);
    });
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer.');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer.');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number.');
  return n;
}

function share(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError('must be in (0, 1].');
  return n;
}
