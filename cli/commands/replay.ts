import { Command, InvalidArgumentError, Option } from 'commander';
import { openEventLog, openModelStore } from '../../shared/adapters/open.ts';
import type { RecsysConfig } from '../../shared/config/index.ts';
import { loadMovieLens100k } from '../../shared/evaluation/movielens.ts';
import {
  movieLensCatalog,
  movieLensEvents,
  type ReplayAs,
} from '../../shared/evaluation/movielens-events.ts';
import {
  createEventCodec,
  eventTimeMs,
  type InteractionEvent,
  type ItemRecord,
  type UserRecord,
} from '../../shared/schemas/index.ts';
import { readEventsFile, readItemsFile, readUsersFile } from '../event-files.ts';
import { EXIT } from '../exit-codes.ts';
import { progressBar } from '../progress.ts';
import { toolLogger, type CommandIo } from '../run-command.ts';

interface ReplayFlags {
  data: string;
  speed: number | 'max';
  as: ReplayAs;
  catalog: boolean;
  limit?: number;
  events?: string;
  items?: string;
  users?: string;
  skipInvalid?: boolean;
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
    .description(
      'publish MovieLens 100K (or --events FILE) to the event log in timestamp order (catalog first)',
    )
    .option('--data <dir>', 'the ml-100k folder', '../shared/datasets/ml-100k')
    .option('--speed <rate>', 'events per second, or max', parseSpeed, 'max' as const)
    .addOption(
      new Option('--as <type>', 'publish ratings as rating events (with value) or as clicks')
        .choices(['rating', 'click'])
        .default('rating'),
    )
    .option('--no-catalog', 'do not upsert the movies and users into the catalog first')
    .option('--limit <n>', 'publish only the first n events', parseCount)
    .option('--events <file>', 'publish these events instead: JSON lines or CSV with a header (file order)')
    .option('--items <file>', 'with --events: catalog items (JSON lines) to upsert first')
    .option('--users <file>', 'with --events: users (JSON lines) to upsert first')
    .option('--skip-invalid', 'leave out bad rows of the files (counted) instead of stopping')
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
      const codec = createEventCodec({ types: cfg.events.types, maxBytes: cfg.events.maxBytes });
      const source = loadSource(flags, codec, io);
      const events = source.events.slice(0, flags.limit);
      const eventLog = openEventLog(cfg, logger);
      const progress = progressBar();
      try {
        if (flags.catalog) {
          const store = await openModelStore(cfg, logger, 'recsys-replay');
          try {
            const { items, users } = source;
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
          await eventLog.append(
            part.map((event) => ({
              key: event.userId,
              value: codec.encode(event),
              ...(event.timestamp === undefined ? {} : { timestamp: eventTimeMs(event, Date.now()) }),
            })),
          );
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

/** The events and catalog to publish: --events files, or MovieLens 100K from --data. */
function loadSource(
  flags: ReplayFlags,
  codec: ReturnType<typeof createEventCodec>,
  io: CommandIo,
): { events: InteractionEvent[]; items: ItemRecord[]; users: UserRecord[] } {
  if (flags.events === undefined) {
    const data = loadMovieLens100k(flags.data);
    return { events: movieLensEvents(data, flags.as), ...movieLensCatalog(data) };
  }
  const skip = flags.skipInvalid === true;
  const files = [
    readEventsFile(flags.events, codec, skip),
    flags.items === undefined ? undefined : readItemsFile(flags.items, skip),
    flags.users === undefined ? undefined : readUsersFile(flags.users, skip),
  ] as const;
  let skipped = 0;
  for (const file of files) {
    for (const problem of file?.problems ?? []) io.stderr.write(`replay: skipped ${problem}\n`);
    skipped += file?.skipped ?? 0;
  }
  if (skipped > 0) io.stderr.write(`replay: skipped ${skipped} invalid rows in all\n`);
  return { events: files[0].rows, items: files[1]?.rows ?? [], users: files[2]?.rows ?? [] };
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
