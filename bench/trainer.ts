import type { ModelName } from '../shared/model/registry.ts';
import { defaultConfig } from '../shared/config/defaults.ts';

const DEFAULT_WINDOW = defaultConfig().model.session.window;
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { KafkaEventLog } from '../shared/adapters/kafka/index.ts';
import { RedisModelStore, connectRedis } from '../shared/adapters/redis/index.ts';
import { Random } from '../shared/model/random.ts';
import { silentLogger } from '../shared/observability/index.ts';
import type { LogRecord } from '../shared/ports/index.ts';
import type { BenchResult } from './report.ts';
import { zipfSampler } from './workload.ts';

export interface TrainerBenchOptions {
  readonly kafkaBrokers: string;
  readonly redisUrl: string;
  /** 1 = the full benchmark (1,000,000 events for MF). */
  readonly scale: number;
  readonly onProgress?: (line: string) => void;
}

export const TRAINER_TARGETS = {
  mfEventsPerSecond: 50_000,
  neumfEventsPerSecond: 4_000,
  freshnessP99Seconds: 0.5,
} as const;

const root = resolve(import.meta.dirname, '..');

interface Run {
  readonly topic: string;
  readonly prefix: string;
  readonly log: KafkaEventLog;
  readonly store: RedisModelStore;
  readonly configFile: string;
}

async function prepare(options: TrainerBenchOptions, models: ModelName[], partitions: number): Promise<Run> {
  const id = randomUUID().slice(0, 8);
  const topic = `bench-${id}`;
  const prefix = `bench-${id}`;
  const log = new KafkaEventLog({
    brokers: [options.kafkaBrokers],
    clientId: 'recsys-bench',
    topic,
    deadLetterTopic: `${topic}.dlq`,
    partitions,
    replicationFactor: 1,
    connectionTimeoutMs: 3_000,
    requestTimeoutMs: 30_000,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
    logger: silentLogger(),
  });
  await log.ensureTopics();
  const client = await connectRedis({
    url: options.redisUrl,
    commandTimeoutMs: 10_000,
    connectTimeoutMs: 5_000,
  });
  const store = new RedisModelStore(client, { keyPrefix: prefix });
  const dir = mkdtempSync(join(tmpdir(), 'recsys-bench-'));
  const configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      kafka: { topic, partitions },
      redis: { keyPrefix: prefix, commandTimeoutMs: 10_000 },
      trainer: { models, groupPrefix: `bench-${id}`, metricsPort: 0, prequentialSample: 0.01 },
      model: { mf: { dim: 64, negatives: 1 }, backend: 'wasm' },
    }),
  );
  return { topic, prefix, log, store, configFile };
}

async function produce(
  run: Run,
  count: number,
  rate: number | undefined,
  random: Random,
  onProgress?: (line: string) => void,
): Promise<void> {
  const nextUser = zipfSampler(100_000, 1, random);
  const nextItem = zipfSampler(20_000, 1, random);
  const devices = ['mobile', 'desktop', 'tv'];
  const chunk = rate === undefined ? 10_000 : Math.max(100, Math.round(rate / 20));
  const started = Date.now();
  for (let sent = 0; sent < count; sent += chunk) {
    const records: LogRecord[] = [];
    for (let k = sent; k < Math.min(count, sent + chunk); k++) {
      const userId = `u${nextUser()}`;
      const event = {
        userId,
        itemId: `i${nextItem()}`,
        type: k % 10 === 0 ? 'like' : 'click',
        context: { device: devices[k % 3] },
      };
      records.push({ key: userId, value: Buffer.from(JSON.stringify(event)) });
    }
    await run.log.append(records);
    if (rate !== undefined) {
      const wait = started + ((sent + records.length) / rate) * 1000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    if (rate === undefined && (sent / chunk) % 20 === 0)
      onProgress?.(`produced ${sent + records.length}/${count}`);
  }
}

/** Starts `recsys trainer`, returns once it started, with its metrics URL and pid. */
async function startTrainer(run: Run, options: TrainerBenchOptions) {
  const child = spawn(process.execPath, [join(root, 'bin', 'recsys.mjs'), 'trainer'], {
    cwd: root,
    env: {
      ...process.env,
      KAFKA_BROKERS: options.kafkaBrokers,
      REDIS_URL: options.redisUrl,
      RECSYS_CONFIG: run.configFile,
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let url: string | undefined;
  let output = '';
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    const match = /"url":"(http:[^"]+)"/.exec(output);
    if (match) url = match[1];
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const deadline = Date.now() + 60_000;
  while (!output.includes('"trainer started"')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the trainer did not start:\n${output.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: url as string, pid: child.pid as number };
}

function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

async function consumedEverything(run: Run, groupId: string): Promise<boolean> {
  const ends = await run.log.endOffsets();
  const stored = await run.store.getOffsets(groupId);
  return [...ends].every(([p, end]) => end === 0 || stored.get(p) === end);
}

async function cleanup(run: Run, options: TrainerBenchOptions): Promise<void> {
  await run.log.close();
  const admin = new Kafka({ brokers: [options.kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [run.topic, `${run.topic}.dlq`] }).catch(() => undefined);
  await admin.disconnect();
  const { Redis } = await import('ioredis');
  const redis = new Redis(options.redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${run.prefix}:*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  await run.store.close();
}

/** Events/second of one consumer group over a backlog of `count` events, and the peak RSS. */
async function throughput(
  options: TrainerBenchOptions,
  model: ModelName,
  count: number,
): Promise<{ perSecond: number; sustained: number; startupSeconds: number; peakRss: number }> {
  const say = options.onProgress ?? (() => undefined);
  const run = await prepare(options, [model], 4);
  try {
    say(`${model}: producing ${count.toLocaleString('en-US')} events`);
    await produce(run, count, undefined, new Random(11), say);
    const trainer = await startTrainer(run, options);
    const groupId = JSON.parse(readFileSync(run.configFile, 'utf8')).trainer.groupPrefix + `-${model}`;
    const started = Date.now();
    let peakRss = 0;
    // The first write seen: from there on the rate is the sustained one (joining the group,
    // assignment and the first reads come before it).
    let first: { at: number; applied: number } | undefined;
    let polls = 0;
    while (!(await consumedEverything(run, groupId))) {
      if (first === undefined) {
        const stored = await run.store.getOffsets(groupId);
        const applied = [...stored.values()].reduce((a, b) => a + b, 0);
        if (applied > 0) first = { at: Date.now(), applied };
      }
      if (polls++ % 5 === 0) peakRss = Math.max(peakRss, rssBytes(trainer.pid));
      await new Promise((r) => setTimeout(r, 50));
      if (Date.now() - started > 30 * 60_000) throw new Error('the trainer did not finish within 30 minutes');
    }
    const ended = Date.now();
    trainer.child.kill('SIGTERM');
    await new Promise((r) => trainer.child.once('exit', r));
    const from = first ?? { at: started, applied: 0 };
    return {
      perSecond: count / ((ended - started) / 1000),
      sustained: (count - from.applied) / (Math.max(1, ended - from.at) / 1000),
      startupSeconds: (from.at - started) / 1000,
      peakRss,
    };
  } finally {
    await cleanup(run, options);
  }
}

/** p99 of the freshness histogram (upper bound of the bucket holding the 99th percentile). */
function histogramQuantile(metrics: string, name: string, q: number): number {
  const buckets = [
    ...metrics.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm')),
  ].map((m) => ({
    le: m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]),
    count: Number(m[2]),
  }));
  const total = buckets.find((b) => b.le === Number.POSITIVE_INFINITY)?.count ?? 0;
  const bucket = buckets.sort((a, b) => a.le - b.le).find((b) => b.count >= q * total);
  return bucket?.le ?? Number.NaN;
}

async function freshness(options: TrainerBenchOptions): Promise<number> {
  const say = options.onProgress ?? (() => undefined);
  const run = await prepare(options, ['mf'], 4);
  try {
    const trainer = await startTrainer(run, options);
    // Let the group settle before the clock starts.
    await produce(run, 1_000, undefined, new Random(1));
    const groupId = JSON.parse(readFileSync(run.configFile, 'utf8')).trainer.groupPrefix + '-mf';
    while (!(await consumedEverything(run, groupId))) await new Promise((r) => setTimeout(r, 100));
    const seconds = Math.max(5, Math.round(30 * options.scale));
    say(`freshness: producing 10,000 events/s for ${seconds} s`);
    const before = await (await fetch(`${trainer.url}/metrics`)).text();
    await produce(run, 10_000 * seconds, 10_000, new Random(2));
    while (!(await consumedEverything(run, groupId))) await new Promise((r) => setTimeout(r, 100));
    const after = await (await fetch(`${trainer.url}/metrics`)).text();
    trainer.child.kill('SIGTERM');
    await new Promise((r) => trainer.child.once('exit', r));
    // Subtract the warm-up's observations bucket by bucket.
    const diff = subtractHistograms(after, before, 'recsys_trainer_freshness_seconds');
    return histogramQuantile(diff, 'recsys_trainer_freshness_seconds', 0.99);
  } finally {
    await cleanup(run, options);
  }
}

function subtractHistograms(after: string, before: string, name: string): string {
  const read = (text: string) =>
    new Map(
      [...text.matchAll(new RegExp(`^(${name}_bucket\\{[^}]*\\}) (\\S+)$`, 'gm'))].map((m) => [
        m[1] as string,
        Number(m[2]),
      ]),
    );
  const a = read(after);
  const b = read(before);
  return [...a].map(([key, value]) => `${key} ${value - (b.get(key) ?? 0)}`).join('\n');
}

export async function runTrainerBench(options: TrainerBenchOptions): Promise<BenchResult[]> {
  const mfCount = Math.max(50_000, Math.round(1_000_000 * options.scale));
  const mf = await throughput(options, 'mf', mfCount);
  const neumf = await throughput(options, 'neumf', Math.max(20_000, Math.round(200_000 * options.scale)));
  const session = await throughput(options, 'session', mfCount);
  const p99 = await freshness(options);
  return [
    {
      name: `MF consumer group, Kafka to Redis (${mfCount.toLocaleString('en-US')} events), sustained`,
      value: mf.sustained,
      unit: 'events/s',
      target: { op: '>=', value: TRAINER_TARGETS.mfEventsPerSecond },
      note: '100,000 users, 20,000 items (Zipf), dim 64, 1 negative, 4 partitions; first write to last',
    },
    {
      name: 'MF consumer group, including start-up',
      value: mf.perSecond,
      unit: 'events/s',
      note: `start-up to the first write ${mf.startupSeconds.toFixed(1)} s (process, group join, assignment)`,
    },
    {
      name: 'NeuMF consumer group, Kafka to Redis (wasm), sustained',
      value: neumf.sustained,
      unit: 'events/s',
      target: { op: '>=', value: TRAINER_TARGETS.neumfEventsPerSecond },
      note: `4 negatives per event; ${Math.round(neumf.perSecond).toLocaleString('en-US')}/s with the ${neumf.startupSeconds.toFixed(1)} s start-up`,
    },
    {
      name: 'Session consumer group, Kafka to Redis, sustained',
      value: session.sustained,
      unit: 'events/s',
      note: `window ${DEFAULT_WINDOW} (a pair weight per previous item, both ways), per-device sessions; reported without target`,
    },
    {
      name: 'Freshness p99 at 10,000 events/s (produced to row written)',
      value: p99,
      unit: 's',
      target: { op: '<=', value: TRAINER_TARGETS.freshnessP99Seconds },
      note: 'upper bound of the histogram bucket',
    },
    {
      name: 'Trainer peak RSS during the MF run',
      value: mf.peakRss / 2 ** 20,
      unit: 'MiB',
      note: 'bounded by trainer.cacheRows',
    },
    { name: 'Trainer peak RSS during the NeuMF run', value: neumf.peakRss / 2 ** 20, unit: 'MiB' },
  ];
}
