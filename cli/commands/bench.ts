import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { runModelBench } from '../../bench/model.ts';
import { formatResults, machine, passed, type BenchResult } from '../../bench/report.ts';
import { loadConfig } from '../../shared/config/index.ts';
import { RecsysError } from '../../shared/errors/index.ts';
import type { BackendName } from '../../shared/model/tf-backend.ts';
import { EXIT } from '../exit-codes.ts';
import { parseWorkers } from '../flags.ts';
import { restartWithServingHeapFlags } from '../heap-restart.ts';
import type { CommandIo } from '../run-command.ts';

/**
 * `recsys bench <suite>`: speed and memory targets are checked by benchmarks that print each
 * figure with its target and PASS/FAIL (docs/benchmarks.md records results). The exit code is 1
 * when a target is missed, so CI or a script can gate on it.
 */
export function benchCommand(io: CommandIo, setCode: (code: number) => void): Command {
  const bench = new Command('bench')
    .description('run a benchmark suite and print each figure with its target and PASS/FAIL')
    .addHelpText(
      'after',
      `
Examples:
  recsys bench model --backends wasm,cpu
  KAFKA_BROKERS=... REDIS_URL=... recsys bench trainer --scale 0.2
  recsys bench serving --only mf,ingest --json

Each suite exits 1 when a target is missed; results and targets: docs/benchmarks.md.`,
    );
  bench
    .command('model')
    .description('MF updates/s, NeuMF training examples/s and scoring latency per TF.js backend')
    .addOption(
      new Option(
        '--backends <list>',
        'TF.js backends to measure: comma-separated tensorflow,wasm,cpu, or all',
      )
        .argParser(parseBackends)
        .default(['wasm'], 'wasm'),
    )
    .option('--scale <factor>', 'shorten the run (0.1 = a tenth of the work)', parseFloat, 1)
    .option('--json', 'print the results as one JSON object as the last line')
    .addHelpText(
      'after',
      '\nExamples:\n  recsys bench model\n  recsys bench model --backends all\n  npm run bench -- model --backends wasm,cpu',
    )
    .action(async (flags: { backends: BackendName[]; scale: number; json?: boolean }) => {
      const results = await runModelBench({
        backends: flags.backends,
        scale: flags.scale,
        onProgress: (line) => io.stderr.write(`bench: ${line}\n`),
      });
      setCode(await report(io, results, flags.json === true));
    });
  bench
    .command('trainer')
    .description(
      'end-to-end trainer throughput (Kafka to Redis), freshness and memory, on real Kafka and Redis',
    )
    .option('--scale <factor>', 'shorten the run (0.1 = a tenth of the events)', parseFloat, 1)
    .option('--json', 'print the results as one JSON object as the last line')
    .addHelpText(
      'after',
      '\nNeeds KAFKA_BROKERS and REDIS_URL (npm run services:up starts both locally).\n\nExamples:\n  recsys bench trainer\n  recsys bench trainer --scale 0.1',
    )
    .action(async (flags: { scale: number; json?: boolean }) => {
      const { kafkaBrokers, redisUrl } = servicesFromEnv();
      const { runTrainerBench } = await import('../../bench/trainer.ts');
      const results = await runTrainerBench({
        kafkaBrokers,
        redisUrl,
        scale: flags.scale,
        onProgress: (line) => io.stderr.write(`bench: ${line}\n`),
      });
      setCode(await report(io, results, flags.json === true));
    });
  bench
    .command('serving')
    .description(
      'serving throughput and latency: NeuMF re-ranking, MF only, a 1,000,000-item ANN catalog, event ingest',
    )
    .option('--scale <factor>', 'shorten the run (0.25 = 5 s loads and 250,000 ANN items)', parseFloat, 1)
    .option(
      '--only <list>',
      'scenarios to run, comma-separated: neumf, mf, ingest, ann (default: all)',
      parseScenarios,
    )
    .option(
      '--workers <n>',
      'run serving as "recsys serving --workers N" child processes for the neumf and mf scenarios (needs Redis and Kafka; 0 = one per core)',
      parseWorkers,
    )
    .option('--json', 'print the results as one JSON object as the last line')
    .addHelpText(
      'after',
      '\nUses Redis and Kafka when REDIS_URL and KAFKA_BROKERS are set (the targets are about them), else the\nembedded adapters. The recommendation scenarios warm up with autocannon as fast as it goes (printed as\nthe capacity), then offer the target rate on an even schedule (open loop) and measure rate and latency\nthere; event ingest runs autocannon as fast as it goes.\nRECSYS_BENCH_PROFILE=<folder> writes a CPU profile of the serving process during each measured run.\nWithout --workers, serving runs inside the benchmark process (restarted in place with the V8 heap\nflags serving runs with, docs/serving.md "Garbage collection"); with it, the scenarios start the serving command with that\nmany workers (for ANN they share one HNSW build, whose recall this process checks by mapping it).\n\nExamples:\n  recsys bench serving\n  recsys bench serving --scale 0.25 --only mf\n  recsys bench serving --only neumf,mf --workers 2\n  RECSYS_BENCH_PROFILE=profiles recsys bench serving --only neumf',
    )
    .action(async (flags: { scale: number; json?: boolean; only?: string[]; workers?: number }) => {
      const config = loadConfig();
      if (flags.workers !== undefined && (config.redis.url === '' || config.kafka.brokers.length === 0)) {
        throw new RecsysError('CONFIG_INVALID', {
          message:
            'bench serving --workers starts serving processes that share Redis and Kafka: set REDIS_URL and KAFKA_BROKERS (npm run services:up prints both).',
        });
      }
      // Serving inside this process runs with the heap flags it has in production.
      restartWithServingHeapFlags(config);
      const { runServingBench } = await import('../../bench/serving.ts');
      const results = await runServingBench({
        ...(flags.only === undefined ? {} : { only: flags.only as ('neumf' | 'mf' | 'ingest' | 'ann')[] }),
        ...(config.redis.url === '' ? {} : { redisUrl: config.redis.url }),
        ...(config.kafka.brokers.length === 0 ? {} : { kafkaBrokers: config.kafka.brokers.join(',') }),
        ...(flags.workers === undefined
          ? {}
          : { workers: flags.workers === 0 ? availableParallelism() : flags.workers }),
        scale: flags.scale,
        onProgress: (line) => io.stderr.write(`bench: ${line}\n`),
      });
      setCode(await report(io, results, flags.json === true));
    });
  return bench;
}

/** The brokers and Redis of the configuration; the trainer benchmark needs both. */
function servicesFromEnv(): { kafkaBrokers: string; redisUrl: string } {
  const config = loadConfig();
  if (config.kafka.brokers.length === 0 || config.redis.url === '') {
    throw new RecsysError('CONFIG_INVALID', {
      message:
        'This benchmark needs real Kafka and Redis: set KAFKA_BROKERS and REDIS_URL (npm run services:up prints both).',
    });
  }
  return { kafkaBrokers: config.kafka.brokers.join(','), redisUrl: config.redis.url };
}

function parseScenarios(value: string): string[] {
  const all = ['neumf', 'mf', 'ingest', 'ann'];
  const list = value.split(',').map((v) => v.trim());
  for (const name of list)
    if (!all.includes(name))
      throw new InvalidArgumentError(`unknown scenario "${name}"; use ${all.join(', ')}.`);
  return list;
}

function parseBackends(value: string): BackendName[] {
  const all: BackendName[] = ['tensorflow', 'wasm', 'cpu'];
  if (value === 'all') return all;
  const list = value.split(',').map((v) => v.trim());
  for (const name of list) {
    if (!all.includes(name as BackendName))
      throw new InvalidArgumentError(`unknown backend "${name}"; use tensorflow, wasm, cpu or all.`);
  }
  return list as BackendName[];
}

async function report(io: CommandIo, results: readonly BenchResult[], json: boolean): Promise<number> {
  const where = await machine();
  io.stdout.write(`${new Date().toISOString().slice(0, 10)} on ${where}\n${formatResults(results)}\n`);
  if (json)
    io.stdout.write(
      `${JSON.stringify({ machine: where, results: results.map((r) => ({ ...r, pass: passed(r) })) })}\n`,
    );
  return results.some((r) => passed(r) === false) ? EXIT.FAILURE : EXIT.OK;
}
