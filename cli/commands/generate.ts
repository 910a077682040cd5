import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { openEventLog, openModelStore } from '../../shared/adapters/open.ts';
import { RecsysClient } from '../../shared/client/recsys-client.ts';
import type { RecsysConfig } from '../../shared/config/index.ts';
import { demoWorld } from '../../shared/demo/world.ts';
import { createEventCodec, type InteractionEvent } from '../../shared/schemas/index.ts';
import { EXIT } from '../exit-codes.ts';
import { toolLogger, type CommandIo } from '../run-command.ts';

interface GenerateFlags {
  rate: number;
  duration?: number;
  api?: string;
  apiKey?: string;
  invalid: number;
  out?: string;
}

/**
 * `recsys generate`: a live synthetic event stream with the demo's planted tastes (and the demo
 * catalog first, when the catalog is empty), so dashboards move and the models have something to
 * learn. The compose file runs it in the `demo` profile.
 */
export function generateCommand(
  io: CommandIo,
  config: () => RecsysConfig,
  setCode: (code: number) => void,
): Command {
  return new Command('generate')
    .description('publish a live synthetic event stream (the demo catalog and tastes) until stopped')
    .option('-r, --rate <events>', 'events per second', parsePositive, 20)
    .option(
      '-d, --duration <seconds>',
      'stop after this long (default: until Ctrl-C / SIGTERM)',
      parsePositive,
    )
    .option(
      '--invalid <share>',
      'share of deliberately invalid events, to exercise the dead-letter path',
      parseShare,
      0,
    )
    .option('--api <url>', 'publish through the serving API at this URL instead of to the event log')
    .option('--api-key <key>', 'write API key for --api')
    .option(
      '--out <dir>',
      "write the demo world's history as files instead (events.jsonl, items.jsonl, users.jsonl) and exit",
    )
    .addHelpText(
      'after',
      `
Examples:
  KAFKA_BROKERS=localhost:9092 REDIS_URL=redis://localhost:6379 recsys generate --rate 50
  recsys generate --api http://127.0.0.1:8080 --rate 10 --duration 60
  recsys generate --out .recsys/demo && recsys eval --model serving --events .recsys/demo/events.jsonl \
    --items .recsys/demo/items.jsonl --users .recsys/demo/users.jsonl
  docker compose --profile demo up -d generator

Users user-0001 ... user-0400 like one genre on mobile and another on desktop; items are the demo
catalog's 200 titles. Prints a line every 10 seconds; exits 0 when stopped.`,
    )
    .action(async (flags: GenerateFlags) => {
      if (flags.out !== undefined) {
        writeWorld(flags.out, config(), io);
        setCode(EXIT.OK);
        return;
      }
      setCode(await generate(flags, config(), io));
    });
}

async function generate(flags: GenerateFlags, cfg: RecsysConfig, io: CommandIo): Promise<number> {
  const world = demoWorld({ now: Date.now(), seed: cfg.model.seed });
  const codec = createEventCodec({ types: cfg.events.types, maxBytes: cfg.events.maxBytes });
  /** Sends valid events, plus `invalid` malformed records (only to the event log: the API refuses them). */
  let send: (events: InteractionEvent[], invalid: number) => Promise<void>;
  let close: () => Promise<void>;
  if (flags.api !== undefined) {
    const client = new RecsysClient({
      baseUrl: flags.api,
      ...(flags.apiKey ? { apiKey: flags.apiKey } : {}),
    });
    if ((await client.getItem(world.items[0]?.itemId as string)) === undefined) {
      for (const item of world.items) await client.putItem(item.itemId, item);
      io.stderr.write(`generate: catalog: ${world.items.length} demo items\n`);
    }
    send = async (events) => void (await client.sendEvents(events));
    close = async () => undefined;
  } else {
    const logger = toolLogger(cfg, io, 'recsys-generate');
    const store = await openModelStore(cfg, logger, 'recsys-generate');
    try {
      if ((await store.listItemIds()).length === 0) {
        await store.putItems(world.items.map((record) => ({ id: record.itemId, record })));
        await store.putUsers(world.users.map((record) => ({ id: record.userId, record })));
        io.stderr.write(`generate: catalog: ${world.items.length} demo items, ${world.users.length} users\n`);
      }
    } finally {
      await store.close();
    }
    const eventLog = openEventLog(cfg, logger);
    await eventLog.ensureTopics();
    send = (events, invalid) =>
      eventLog.append([
        ...events.map((event) => ({ key: event.userId, value: codec.encode(event) })),
        ...Array.from({ length: invalid }, (_, i) => ({
          key: `invalid-${i}`,
          value: Buffer.from('{"userId":'),
        })),
      ]);
    close = () => eventLog.close();
  }

  let stop = false;
  const onSignal = () => {
    stop = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = Date.now();
  let sent = 0;
  let credit = 0;
  let lastReport = started;
  let reportedSent = 0;
  try {
    while (!stop && (flags.duration === undefined || Date.now() - started < flags.duration * 1000)) {
      const tickStart = Date.now();
      credit += flags.rate / 10;
      const n = Math.floor(credit);
      credit -= n;
      if (n > 0) {
        let invalid = 0;
        for (let i = 0; i < n; i++) if (Math.random() < flags.invalid) invalid++;
        const events = Array.from({ length: n - invalid }, () => world.nextEvent(Date.now()));
        await send(events, flags.api === undefined ? invalid : 0);
        sent += n;
      }
      if (Date.now() - lastReport >= 10_000) {
        const seconds = (Date.now() - lastReport) / 1000;
        io.stderr.write(
          `generate: ${sent.toLocaleString('en-US')} events (${((sent - reportedSent) / seconds).toFixed(1)}/s)\n`,
        );
        lastReport = Date.now();
        reportedSent = sent;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (Date.now() - tickStart))));
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await close();
  }
  io.stdout.write(
    `generate: ${sent.toLocaleString('en-US')} events in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return EXIT.OK;
}

/** The demo world's catalog and two-week history (what `recsys start` seeds) as JSON lines. */
function writeWorld(dir: string, cfg: RecsysConfig, io: CommandIo): void {
  const world = demoWorld({ now: Date.now(), seed: cfg.model.seed });
  mkdirSync(dir, { recursive: true });
  const lines = (rows: readonly unknown[]) => rows.map((row) => `${JSON.stringify(row)}\n`).join('');
  writeFileSync(join(dir, 'events.jsonl'), lines(world.events));
  writeFileSync(join(dir, 'items.jsonl'), lines(world.items));
  writeFileSync(join(dir, 'users.jsonl'), lines(world.users));
  io.stdout.write(
    `generate: wrote ${world.events.length.toLocaleString('en-US')} events, ${world.items.length} items and ${world.users.length} users to ${dir}\n`,
  );
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number.');
  return n;
}

function parseShare(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be between 0 and 1.');
  return n;
}
