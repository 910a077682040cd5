/**
 * Real Redis and Apache Kafka on loopback, for machines without Docker (DESIGN.md "Real services
 * in tests"). Redis comes from the Debian package `redis-server` (installed when missing and we
 * may), Kafka 4.x from its jars on Maven Central (fetched once with scripts/kafka/pom.xml into a
 * cache shared by every clone) and runs as one KRaft broker+controller with `java -cp`.
 *
 * State lives in .recsys/services/ (git-ignored): data folders, logs, pids and services.env with
 * the KAFKA_BROKERS and REDIS_URL lines the tests read. `up` is idempotent: when both services
 * recorded there still answer, it only prints their addresses.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import {
  KAFKA_VERSION,
  ROOT,
  ensureJava,
  ensureKafkaJars,
  ensureRedisBinary,
  type Say,
} from './service-install.ts';
import { formatKafkaCluster, startKafkaNode } from './kafka-broker.ts';
import { freePorts, isAlive, kafkaAnswers, redisAnswers, stopPid, tail, waitFor } from './service-process.ts';

export { ROOT, cacheDir } from './service-install.ts';
export { freePorts, isAlive } from './service-process.ts';

/** Override with RECSYS_SERVICES_DIR to run a second, independent pair (the tests do). */
export const STATE_DIR = process.env['RECSYS_SERVICES_DIR'] ?? join(ROOT, '.recsys', 'services');
export const ENV_FILE = join(
  dirname(STATE_DIR),
  `${basename(STATE_DIR) === 'services' ? '' : `${basename(STATE_DIR)}.`}services.env`,
);
const STATE_FILE = join(STATE_DIR, 'state.json');
export interface ServiceEndpoints {
  readonly kafkaBrokers: string;
  readonly redisUrl: string;
}

interface State extends ServiceEndpoints {
  readonly redis: { pid: number; port: number };
  readonly kafka: { pid: number; port: number; controllerPort: number };
}

/** Starts Redis and Kafka unless the recorded ones still answer; returns their addresses. */
export async function servicesUp(say: Say = () => undefined): Promise<ServiceEndpoints> {
  const running = await runningState();
  if (running !== undefined) {
    say(`recsys services already running (redis pid ${running.redis.pid}, kafka pid ${running.kafka.pid})`);
    writeEnvFile(running);
    return running;
  }
  await servicesDown(() => undefined); // clear half-started leftovers
  mkdirSync(STATE_DIR, { recursive: true });
  const redisBinary = ensureRedisBinary(say);
  const jars = ensureKafkaJars(say);
  const java = ensureJava();

  const [redisPort, kafkaPort, controllerPort] = (await freePorts(3)) as [number, number, number];
  say(`starting redis-server on 127.0.0.1:${redisPort}`);
  const redisPid = startRedis(redisBinary, redisPort);
  say(`starting Apache Kafka ${KAFKA_VERSION} (KRaft) on 127.0.0.1:${kafkaPort}`);
  const kafkaPid = startKafka(java, jars, kafkaPort, controllerPort, say);
  const state: State = {
    kafkaBrokers: `127.0.0.1:${kafkaPort}`,
    redisUrl: `redis://127.0.0.1:${redisPort}`,
    redis: { pid: redisPid, port: redisPort },
    kafka: { pid: kafkaPid, port: kafkaPort, controllerPort },
  };
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
  try {
    await waitFor(
      'redis',
      () => redisAnswers(redisPort),
      20_000,
      () => tail(join(STATE_DIR, 'redis.log')),
    );
    await waitFor(
      'kafka',
      () => kafkaAnswers(state.kafkaBrokers),
      90_000,
      () => tail(join(STATE_DIR, 'kafka', 'logs', 'broker.log'), join(STATE_DIR, 'kafka.out')),
    );
  } catch (error) {
    await servicesDown(() => undefined);
    throw error;
  }
  writeEnvFile(state);
  return state;
}

/** Stops the services recorded in the state file (SIGTERM, then SIGKILL after a grace period). */
export async function servicesDown(
  say: Say = () => undefined,
  options: { clean?: boolean } = {},
): Promise<void> {
  const state = readState();
  if (state !== undefined) {
    await Promise.all([stopPid(state.kafka.pid, 'kafka', say), stopPid(state.redis.pid, 'redis', say)]);
  }
  rmSync(STATE_FILE, { force: true });
  rmSync(ENV_FILE, { force: true });
  if (options.clean === true) rmSync(STATE_DIR, { recursive: true, force: true });
}

/** The recorded services when both still answer. */
export async function runningState(): Promise<State | undefined> {
  const state = readState();
  if (state === undefined) return undefined;
  if (!isAlive(state.redis.pid) || !isAlive(state.kafka.pid)) return undefined;
  if (!(await redisAnswers(state.redis.port))) return undefined;
  if (!(await kafkaAnswers(state.kafkaBrokers))) return undefined;
  return state;
}

export function envLines(endpoints: ServiceEndpoints): string {
  return `KAFKA_BROKERS=${endpoints.kafkaBrokers}\nREDIS_URL=${endpoints.redisUrl}\n`;
}

function writeEnvFile(endpoints: ServiceEndpoints): void {
  mkdirSync(dirname(ENV_FILE), { recursive: true });
  writeFileSync(ENV_FILE, envLines(endpoints));
}

function readState(): State | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as State;
  } catch {
    return undefined;
  }
}

function startRedis(binary: string, port: number): number {
  const dir = join(STATE_DIR, 'redis');
  mkdirSync(dir, { recursive: true });
  const out = openSync(join(STATE_DIR, 'redis.log'), 'a');
  const child = spawn(
    binary,
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
      '--protected-mode',
      'yes',
      '--daemonize',
      'no',
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  return child.pid as number;
}

function startKafka(java: string, libs: string, port: number, controllerPort: number, say: Say): number {
  const node = { dir: join(STATE_DIR, 'kafka'), nodeId: 1, port, controllerPort };
  // Ports change between starts, so the quorum changes too: format a fresh storage each time.
  formatKafkaCluster(java, libs, [node], say);
  return startKafkaNode(java, libs, node, join(STATE_DIR, 'kafka.out'), { detached: true }).pid as number;
}
