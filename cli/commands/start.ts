import type { ModelName } from '../../shared/model/registry.ts';
import { Command } from 'commander';
import { parseModels, parsePort } from '../flags.ts';
import { startServing } from '../../services/serving/main.ts';
import { startTrainer } from '../../services/trainer/trainer.ts';
import { MemoryModelStore, recordDataDirApi } from '../../shared/adapters/memory/index.ts';
import { openEventLog, openModelStore } from '../../shared/adapters/open.ts';
import {
  describeDeployment,
  type Config,
  type DeepPartial,
  type RecsysConfig,
} from '../../shared/config/index.ts';
import { demoWorld } from '../../shared/demo/world.ts';
import { createLogger, createMetricsRegistry, type Logger } from '../../shared/observability/index.ts';
import type { EventLog, ModelStore } from '../../shared/ports/index.ts';
import { ProcessLifetime } from '../../shared/process/lifetime.ts';
import { createEventCodec } from '../../shared/schemas/index.ts';
import { EXIT } from '../exit-codes.ts';
import type { CommandIo } from '../run-command.ts';

export interface StartFlags {
  readonly port?: number;
  readonly host?: string;
  /** undefined: seed the demo when the embedded store and log are empty; true: also on Kafka/Redis. */
  readonly demo?: boolean;
  readonly models?: ModelName[];
}

/** `recsys start`: trainer and serving in one process, the README's first command. */
export function startCommand(
  loadConfig: (overrides: DeepPartial<Config>) => RecsysConfig,
  io: CommandIo,
  setCode: (code: number) => void,
): Command {
  return new Command('start')
    .description(
      'run trainer and serving in one process: embedded store and log in data/ by default, Kafka and Redis when configured',
    )
    .option('--port <port>', 'port of the HTTP API (default: PORT or 8080)', parsePort)
    .option('--host <host>', 'address to bind (default: HOST or 127.0.0.1)')
    .option('--models <list>', 'models to train: mf, neumf or mf,neumf (default)', parseModels)
    .option('--demo', 'seed the demo catalog and history even on Kafka/Redis (only when empty)')
    .option('--no-demo', 'never seed the demo catalog and history')
    .addHelpText(
      'after',
      `
Examples:
  recsys start                                   # embedded, demo data on first run, http://127.0.0.1:8080
  PORT=9000 recsys start --no-demo
  KAFKA_BROKERS=localhost:9092 REDIS_URL=redis://localhost:6379 recsys start

On the embedded default the event log and model store live in data/ (RECSYS_DATA_DIR): a restart
resumes with what was learned. On first run (nothing in data/) it seeds a demo catalog of 200
titles in 8 genres and a two-week history of 400 users who like one genre on mobile and another on
desktop, and trains on it while serving. Stop with Ctrl-C: it finishes the batch in progress,
saves and exits 0.`,
    )
    .action(async (flags: StartFlags) => {
      const config = loadConfig({
        serving: {
          ...(flags.port !== undefined ? { port: flags.port } : {}),
          ...(flags.host !== undefined ? { host: flags.host } : {}),
        },
        ...(flags.models ? { trainer: { models: flags.models } } : {}),
      });
      setCode(await runAllInOne(config, flags, io));
    });
}

export interface AllInOne {
  readonly url: string;
  /** Resolves when the demo history (if any) has been trained on, with how many events. */
  readonly caughtUp: Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts trainer and serving on one event log and one model store (one registry, so /metrics shows
 * both). Seeds the demo world first when asked or when the embedded adapters are empty.
 */
export async function startAllInOne(
  config: RecsysConfig,
  flags: StartFlags,
  logger: Logger,
  onFatal: (error: unknown) => void,
  print: (line: string) => void = () => undefined,
): Promise<AllInOne> {
  const registry = createMetricsRegistry({ service: 'recsys' });
  const eventLog = openEventLog(config, logger);
  const redis = describeDeployment(config).modelStore === 'redis';
  const store = await openModelStore(config, logger, 'recsys-trainer');
  const requestStore = redis
    ? await openModelStore(config, logger, 'recsys-serving', {
        commandTimeoutMs: Math.max(1_000, 4 * config.serving.storeTimeoutMs),
        autoPipelining: true,
      })
    : store;
  const closeAll = async () => {
    await eventLog.close();
    if (requestStore !== store) await requestStore.close();
    await store.close();
  };
  try {
    await eventLog.ensureTopics();
    const seed = flags.demo ?? !redis;
    const seeded = seed ? await seedDemo(config, eventLog, store, print) : 0;
    const trainer = await startTrainer({ config, eventLog, store, registry, logger, http: false, onFatal });
    const serving = await startServing({
      config,
      eventLog,
      store: requestStore,
      syncStore: store,
      registry,
      logger,
    });
    // A second process refused the data folder names this API instead.
    if (describeDeployment(config).modelStore === 'memory')
      recordDataDirApi(config.embedded.dataDir, serving.url);
    let running = true;
    const caughtUp =
      seeded > 0
        ? waitForTraining(trainer.workers, eventLog, store, () => running).then(async () => {
            await serving.engine.syncNow();
            // Save what was learned now rather than at the next autosave.
            if (store instanceof MemoryModelStore) store.persist();
          })
        : Promise.resolve();
    return {
      url: serving.url,
      caughtUp: caughtUp.then(() => seeded),
      async stop() {
        running = false;
        await serving.stop();
        await trainer.stop();
        await closeAll();
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

async function runAllInOne(config: RecsysConfig, flags: StartFlags, io: CommandIo): Promise<number> {
  const logger = createLogger({ level: config.log.level, pretty: config.log.pretty, name: 'recsys' });
  const print = (line: string) => io.stdout.write(`${line}\n`);
  let fatal: unknown;
  const lifetime = new ProcessLifetime(
    logger,
    'stopping: draining requests, finishing the batch in progress',
  );
  const started = performance.now();
  const app = await startAllInOne(
    config,
    flags,
    logger,
    (error) => {
      fatal = error;
      lifetime.stop();
    },
    print,
  );
  const deployment = describeDeployment(config);
  print('');
  print(`recsys is running: event log ${deployment.eventLog}, model store ${deployment.modelStore}`);
  print(`  demo page     ${app.url}/`);
  print(`  API and docs  ${app.url}/docs`);
  print(`  metrics       ${app.url}/metrics`);
  print('Try:');
  print(`  curl '${app.url}/v1/users/user-0001/recommendations?k=5&device=mobile'`);
  print(`  curl '${app.url}/v1/popular?k=5'`);
  print(
    `  curl -X POST ${app.url}/v1/events -H 'content-type: application/json' -d '{"userId":"me","itemId":"comedy-001","type":"click","context":{"device":"mobile"}}'`,
  );
  print(`  curl '${app.url}/v1/users/me/recommendations?k=5&device=mobile'`);
  print('Stop with Ctrl-C.');
  void app.caughtUp.then((events) => {
    if (events > 0)
      print(
        `recsys: trained on the ${events.toLocaleString('en-US')} demo events in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
  });
  await lifetime.shutdown(config.trainer.shutdownTimeoutMs + 15_000, () => app.stop());
  return fatal === undefined ? EXIT.OK : EXIT.FAILURE;
}

/**
 * Seeds the demo catalog, users and history when the catalog and the events topic are both
 * empty (a first run); returns how many events it appended (0 when it left existing data alone).
 */
export async function seedDemo(
  config: RecsysConfig,
  eventLog: EventLog,
  store: ModelStore,
  print: (line: string) => void,
): Promise<number> {
  const ends = await eventLog.endOffsets();
  const logged = [...ends.values()].reduce((a, b) => a + b, 0);
  if (logged > 0 || (await store.listItemIds()).length > 0) return 0;
  const world = demoWorld({ now: Date.now(), seed: config.model.seed });
  print(
    `recsys: first run, seeding the demo: ${world.items.length} items, ${world.users.length} users, ${world.events.length.toLocaleString('en-US')} events`,
  );
  await store.putItems(world.items.map((record) => ({ id: record.itemId, record })));
  await store.putUsers(world.users.map((record) => ({ id: record.userId, record })));
  const codec = createEventCodec({ types: config.events.types, maxBytes: config.events.maxBytes });
  for (let i = 0; i < world.events.length; i += 1_000) {
    await eventLog.append(
      world.events.slice(i, i + 1_000).map((event) => ({
        key: event.userId,
        value: codec.encode(event),
        timestamp: event.timestamp as number,
      })),
    );
  }
  return world.events.length;
}

/** Resolves when every model's consumer group has processed everything now in the log (or on stop). */
async function waitForTraining(
  workers: readonly { readonly groupId: string }[],
  eventLog: EventLog,
  store: ModelStore,
  running: () => boolean,
): Promise<void> {
  const ends = await eventLog.endOffsets();
  while (running()) {
    let behind = false;
    for (const worker of workers) {
      const done = await store.getOffsets(worker.groupId);
      for (const [partition, end] of ends) if ((done.get(partition) ?? 0) < end) behind = true;
    }
    if (!behind) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
