import { Command, InvalidArgumentError, Option } from 'commander';
import { openEventLog, openModelStore } from '../../shared/adapters/open.ts';
import type { RecsysConfig } from '../../shared/config/index.ts';
import { loadMovieLens100k } from '../../shared/evaluation/movielens.ts';
import {
  movieLensCatalog,
  movieLensEvents,
  type ReplayAs,
} from '../../shared/evaluation/movielens-events.ts';
import { createEventCodec } from '../../shared/schemas/index.ts';
import { EXIT } from '../exit-codes.ts';
import { progressBar } from '../progress.ts';
import { toolLogger, type CommandIo } from '../run-command.ts';

interface ReplayFlags {
  data: string;
  speed: number | 'max';
  as: ReplayAs;
  catalog: boolean;
  limit?: number;
}

/**
 * `recsys replay`: publishes a data set's interactions to the event log in timestamp order (and,
 * first, its catalog to the model store, so the hybrid model has features).
 */
export function replayCommand(
  io: CommandIo,
  config: () => RecsysConfig,
  setCode: (code: number) => void,
): Command {
  return new Command('replay')
    .description('publish MovieLens 100K to the event log in timestamp order (catalog first)')
    .option('--data <dir>', 'the ml-100k folder', '../shared/datasets/ml-100k')
    .option('--speed <rate>', 'events per second, or max', parseSpeed, 'max' as const)
    .addOption(
      new Option('--as <type>', 'publish ratings as rating events (with value) or as clicks')
        .choices(['rating', 'click'])
        .default('rating'),
    )
    .option('--no-catalog', 'do not upsert the movies and users into the catalog first')
    .option('--limit <n>', 'publish only the first n events', parseCount)
    .addHelpText(
      'after',
      `
Examples:
  KAFKA_BROKERS=localhost:9092 REDIS_URL=redis://localhost:6379 recsys replay --data ../shared/datasets/ml-100k
  recsys replay --speed 500 --as click --limit 10000

Events are keyed by user id; ids are u<user> and i<movie>; event ids ml100k-<user>-<movie>.`,
    )
    .action(async (flags: ReplayFlags) => {
      const cfg = config();
      const logger = toolLogger(cfg, io, 'recsys-replay');
      const data = loadMovieLens100k(flags.data);
      const events = movieLensEvents(data, flags.as).slice(0, flags.limit);
      const codec = createEventCodec({ types: cfg.events.types, maxBytes: cfg.events.maxBytes });
      const eventLog = openEventLog(cfg, logger);
      const progress = progressBar();
      try {
        if (flags.catalog) {
          const store = await openModelStore(cfg, logger, 'recsys-replay');
          try {
            const { items, users } = movieLensCatalog(data);
            await store.putItems(items.map((record) => ({ id: record.itemId, record })));
            await store.putUsers(users.map((record) => ({ id: record.userId, record })));
            io.stderr.write(`replay: catalog: ${items.length} items, ${users.length} users\n`);
          } finally {
            await store.close();
          }
        }
        await eventLog.ensureTopics();
        const started = Date.now();
        const chunk =
          flags.speed === 'max' ? 5_000 : Math.max(1, Math.min(5_000, Math.round(flags.speed / 10)));
        for (let sent = 0; sent < events.length; sent += chunk) {
          const part = events.slice(sent, sent + chunk);
          await eventLog.append(part.map((event) => ({ key: event.userId, value: codec.encode(event) })));
          progress.update('replay', sent + part.length, events.length);
          if (flags.speed !== 'max') {
            const due = started + ((sent + part.length) / flags.speed) * 1000;
            const wait = due - Date.now();
            if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          }
        }
        progress.done();
        const seconds = (Date.now() - started) / 1000;
        io.stdout.write(
          `replay: published ${events.length} events to ${cfg.kafka.brokers.length > 0 ? `Kafka topic ${cfg.kafka.topic}` : 'the embedded event log'} in ${seconds.toFixed(1)} s (${Math.round(events.length / Math.max(seconds, 0.001))}/s)\n`,
        );
        setCode(EXIT.OK);
      } finally {
        await eventLog.close();
      }
    });
}

function parseSpeed(value: string): number | 'max' {
  if (value === 'max') return 'max';
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('must be a positive number of events per second, or max.');
  return n;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer.');
  return n;
}
