import { eventFromCsv, numeric, splitCsv } from '../event-files.ts';
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command, InvalidArgumentError, Option } from 'commander';
import { openEventLog } from '../../shared/adapters/open.ts';
import { RecsysClient } from '../../shared/client/recsys-client.ts';
import type { RecsysConfig } from '../../shared/config/index.ts';
import type { RecsysError } from '../../shared/errors/index.ts';
import { createEventCodec, parseJson, type InteractionEvent } from '../../shared/schemas/index.ts';
import { EXIT } from '../exit-codes.ts';
import { progressBar } from '../progress.ts';
import { toolLogger, type CommandIo } from '../run-command.ts';

interface PublishFlags {
  user?: string;
  item?: string;
  type: string;
  value?: number;
  timestamp?: string;
  eventId?: string;
  context: Record<string, string | number>;
  file?: string;
  format?: 'jsonl' | 'csv';
  api?: string;
  apiKey?: string;
}

const BATCH = 500;

/**
 * `recsys publish`: one event from flags, or many from a JSON-lines or CSV file (or stdin), to the
 * event log (Kafka or embedded) or, with --api, through the serving API with the typed client.
 * Every line is validated first: invalid ones are reported with their line number and skipped,
 * the valid ones are published; the exit code is 1 when any line was invalid.
 */
export function publishCommand(
  io: CommandIo,
  config: () => RecsysConfig,
  setCode: (code: number) => void,
): Command {
  return new Command('publish')
    .description('publish interaction events: one from flags, or many from a JSONL/CSV file or stdin')
    .option('-u, --user <id>', 'user id (one event from flags)')
    .option('-i, --item <id>', 'item id (one event from flags)')
    .option(
      '-t, --type <type>',
      'event type: click, view, like, dislike, purchase, rating, impression',
      'click',
    )
    .option('--value <number>', 'rating value, or a weight', parseNumber)
    .option('--timestamp <time>', 'epoch milliseconds or RFC 3339 (default: now)')
    .option('--event-id <id>', 'client-chosen event id')
    .option(
      '--context <key=value>',
      'a context field, repeatable: --context device=mobile --context hour=21',
      parseContext,
      {},
    )
    .option('-f, --file <path>', 'events file, one per line; "-" reads stdin')
    .addOption(
      new Option('--format <format>', 'file format (default: from the extension, else jsonl)').choices([
        'jsonl',
        'csv',
      ]),
    )
    .option('--api <url>', 'publish through the serving API at this URL instead of to the event log')
    .option('--api-key <key>', 'write API key for --api')
    .addHelpText(
      'after',
      `
Examples:
  recsys publish -u u42 -i movie-7 -t click --context device=mobile --context hour=21
  recsys publish -u u42 -i movie-7 -t rating --value 4.5
  recsys publish -f events.jsonl
  cat events.csv | recsys publish -f - --format csv
  recsys publish -f events.jsonl --api http://localhost:8080 --api-key "$KEY"

JSONL: one event object per line, as in the README. CSV: a header row naming the columns userId,
itemId, type and optionally value, timestamp, eventId and context.<field> (e.g. context.device).
Invalid lines are reported as "line N: CODE message" and skipped; the valid ones are published
and the exit code is 1. Without --api, events go to Kafka when KAFKA_BROKERS is set, else to the
embedded event log in data/ (which "recsys start" trains from).`,
    )
    .action(async (flags: PublishFlags) => {
      setCode(await publish(flags, config(), io));
    });
}

async function publish(flags: PublishFlags, cfg: RecsysConfig, io: CommandIo): Promise<number> {
  const fromFlags = flags.user !== undefined || flags.item !== undefined;
  if (
    (flags.file === undefined) === !fromFlags ||
    (fromFlags && (flags.user === undefined || flags.item === undefined))
  ) {
    io.stderr.write('recsys publish: give --user and --item (one event) or --file (many); see --help.\n');
    return EXIT.USAGE;
  }
  const codec = createEventCodec({ types: cfg.events.types, maxBytes: cfg.events.maxBytes });
  const sink = await openSink(flags, cfg, io);
  let published = 0;
  let invalid = 0;
  const progress = progressBar();
  const reject = (line: number, error: RecsysError | { code: string; message: string }) => {
    invalid++;
    io.stderr.write(`line ${line}: ${error.code} ${error.message}\n`);
    for (const issue of 'issues' in error ? error.issues.slice(0, 5) : [])
      io.stderr.write(`  ${issue.path}: ${issue.reason}\n`);
  };
  try {
    if (flags.file === undefined) {
      const result = codec.validate(eventFromFlags(flags));
      if (!result.ok) {
        reject(1, result.error);
        return EXIT.FAILURE;
      }
      invalid += await sink.send([{ line: 1, event: result.value }], reject);
      published = 1 - invalid;
    } else {
      const size = flags.file === '-' ? 0 : statSync(flags.file).size;
      const input = flags.file === '-' ? process.stdin : createReadStream(flags.file);
      const format = flags.format ?? (flags.file.endsWith('.csv') ? 'csv' : 'jsonl');
      let header: string[] | undefined;
      let batch: { line: number; event: InteractionEvent }[] = [];
      let lineNo = 0;
      let bytes = 0;
      const flush = async () => {
        const failed = await sink.send(batch, reject);
        published += batch.length - failed;
        batch = [];
        if (size > 0) progress.update('publish', Math.min(bytes, size), size);
      };
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        lineNo++;
        bytes += Buffer.byteLength(line) + 1;
        if (line.trim() === '') continue;
        let value: unknown;
        if (format === 'csv') {
          const cells = splitCsv(line);
          if (header === undefined) {
            header = cells;
            continue;
          }
          value = eventFromCsv(header, cells);
        } else {
          const parsed = parseJson(line);
          if (!parsed.ok) {
            reject(lineNo, parsed.error);
            continue;
          }
          value = parsed.value;
        }
        const result = codec.validate(value);
        if (!result.ok) {
          reject(lineNo, result.error);
          continue;
        }
        batch.push({ line: lineNo, event: result.value });
        if (batch.length >= BATCH) await flush();
      }
      await flush();
      progress.done();
    }
  } finally {
    await sink.close();
  }
  io.stdout.write(
    `publish: ${published.toLocaleString('en-US')} event${published === 1 ? '' : 's'} published to ${sink.name}${invalid > 0 ? `, ${invalid.toLocaleString('en-US')} invalid skipped` : ''}\n`,
  );
  return invalid > 0 ? EXIT.FAILURE : EXIT.OK;
}

interface Sink {
  readonly name: string;
  /** Publishes; reports and returns how many the receiver rejected. */
  send(
    batch: readonly { line: number; event: InteractionEvent }[],
    reject: (line: number, error: { code: string; message: string }) => void,
  ): Promise<number>;
  close(): Promise<void>;
}

async function openSink(flags: PublishFlags, cfg: RecsysConfig, io: CommandIo): Promise<Sink> {
  if (flags.api !== undefined) {
    const client = new RecsysClient({
      baseUrl: flags.api,
      ...(flags.apiKey !== undefined ? { apiKey: flags.apiKey } : {}),
    });
    return {
      name: flags.api,
      async send(batch, reject) {
        if (batch.length === 0) return 0;
        const result = await client.sendEvents(
          batch.map((b) => b.event),
          { import: true }, // what the CLI publishes is an import, not one user's live traffic
        );
        for (const e of result.errors) reject(batch[e.index]?.line ?? 0, e);
        return result.rejected;
      },
      close: async () => undefined,
    };
  }
  const logger = toolLogger(cfg, io, 'recsys-publish');
  const eventLog = openEventLog(cfg, logger);
  await eventLog.ensureTopics();
  const codec = createEventCodec({ types: cfg.events.types, maxBytes: cfg.events.maxBytes });
  return {
    name: cfg.kafka.brokers.length > 0 ? `Kafka topic ${cfg.kafka.topic}` : 'the embedded event log',
    async send(batch) {
      if (batch.length > 0)
        await eventLog.append(batch.map(({ event }) => ({ key: event.userId, value: codec.encode(event) })));
      return 0;
    },
    close: () => eventLog.close(),
  };
}

function eventFromFlags(flags: PublishFlags): Record<string, unknown> {
  const timestamp =
    flags.timestamp === undefined
      ? undefined
      : /^\d+$/.test(flags.timestamp)
        ? Number(flags.timestamp)
        : flags.timestamp;
  return {
    userId: flags.user ?? '',
    itemId: flags.item ?? '',
    type: flags.type,
    ...(flags.value !== undefined ? { value: flags.value } : {}),
    ...(timestamp !== undefined ? { timestamp } : {}),
    ...(flags.eventId !== undefined ? { eventId: flags.eventId } : {}),
    ...(Object.keys(flags.context).length > 0 ? { context: flags.context } : {}),
  };
}

function parseNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('must be a number.');
  return n;
}

function parseContext(
  value: string,
  previous: Record<string, string | number>,
): Record<string, string | number> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('must be key=value, e.g. device=mobile.');
  return { ...previous, [value.slice(0, at)]: numeric(value.slice(at + 1)) };
}
