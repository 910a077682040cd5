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
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Override with RECSYS_SERVICES_DIR to run a second, independent pair (the tests do). */
export const STATE_DIR = process.env['RECSYS_SERVICES_DIR'] ?? join(ROOT, '.recsys', 'services');
export const ENV_FILE = join(
  dirname(STATE_DIR),
  `${basename(STATE_DIR) === 'services' ? '' : `${basename(STATE_DIR)}.`}services.env`,
);
const STATE_FILE = join(STATE_DIR, 'state.json');
const KAFKA_VERSION = readFileSync(join(ROOT, 'scripts', 'kafka', 'pom.xml'), 'utf8').match(
  /<kafka\.version>([^<]+)<\/kafka\.version>/,
)?.[1] as string;

export interface ServiceEndpoints {
  readonly kafkaBrokers: string;
  readonly redisUrl: string;
}

interface State extends ServiceEndpoints {
  readonly redis: { pid: number; port: number };
  readonly kafka: { pid: number; port: number; controllerPort: number };
}

type Say = (line: string) => void;

export function cacheDir(): string {
  return (
    process.env['RECSYS_CACHE_DIR'] ??
    join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'recsys')
  );
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

function which(binary: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const path = result.stdout.trim();
  return result.status === 0 && path !== '' ? path : undefined;
}

function ensureRedisBinary(say: Say): string {
  const found =
    which('redis-server') ?? (existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined);
  if (found !== undefined) return found;
  const apt = which('apt-get');
  const isRoot = process.getuid?.() === 0;
  if (apt === undefined || !isRoot) {
    throw new Error(
      'redis-server is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis), or set REDIS_URL to a running Redis.',
    );
  }
  say('installing redis-server with apt-get (Debian package)');
  run('apt-get', ['update', '-qq'], 'apt-get update');
  run(
    'apt-get',
    ['install', '-y', '-qq', '--no-install-recommends', 'redis-server'],
    'apt-get install redis-server',
    {
      DEBIAN_FRONTEND: 'noninteractive',
    },
  );
  return which('redis-server') ?? '/usr/bin/redis-server';
}

function ensureJava(): string {
  const java = which('java');
  if (java === undefined) {
    throw new Error(
      'java (17 or newer) is not installed; Apache Kafka needs it. Install a JDK 17 (Debian: apt-get install -y openjdk-17-jre-headless), or set KAFKA_BROKERS to a running broker.',
    );
  }
  return java;
}

/** The broker's jars, fetched from Maven Central once per machine. */
function ensureKafkaJars(say: Say): string {
  const libs = join(cacheDir(), `kafka-${KAFKA_VERSION}`, 'libs');
  const marker = join(libs, '.complete');
  if (existsSync(marker)) return libs;
  if (which('mvn') === undefined) {
    throw new Error(
      'Maven (mvn) is needed once to fetch the Kafka jars from Maven Central (Debian: apt-get install -y maven), or set KAFKA_BROKERS to a running broker.',
    );
  }
  say(`fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central into ${libs}`);
  rmSync(libs, { recursive: true, force: true });
  run(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      join(ROOT, 'scripts', 'kafka', 'pom.xml'),
      'dependency:copy-dependencies',
      `-DoutputDirectory=${libs}`,
      '-DincludeScope=runtime',
    ],
    'mvn dependency:copy-dependencies',
  );
  writeFileSync(marker, new Date().toISOString());
  return libs;
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
  const dir = join(STATE_DIR, 'kafka');
  const dataDir = join(dir, 'data');
  const logsDir = join(dir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const properties = join(dir, 'server.properties');
  writeFileSync(
    properties,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${dataDir}`,
      'num.partitions=1',
      'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=4',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'delete.topic.enable=true',
      '',
    ].join('\n'),
  );
  const classpath = `${libs}/*`;
  const jvm = [
    '-Xms256m',
    '-Xmx768m',
    '-XX:+UseG1GC',
    `-Dkafka.logs.dir=${logsDir}`,
    `-Dlog4j2.configurationFile=${join(ROOT, 'scripts', 'kafka', 'log4j2.properties')}`,
  ];
  // Ports change between starts, so the voters line changes too: format a fresh storage each time.
  rmSync(dataDir, { recursive: true, force: true });
  const uuid = run(
    java,
    ['-cp', classpath, ...jvm, 'kafka.tools.StorageTool', 'random-uuid'],
    'kafka-storage random-uuid',
  )
    .trim()
    .split('\n')
    .pop() as string;
  say('formatting Kafka storage (KRaft)');
  run(
    java,
    ['-cp', classpath, ...jvm, 'kafka.tools.StorageTool', 'format', '-t', uuid, '-c', properties],
    'kafka-storage format',
  );
  const out = openSync(join(STATE_DIR, 'kafka.out'), 'a');
  const child = spawn(java, ['-cp', classpath, ...jvm, 'kafka.Kafka', properties], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  child.unref();
  return child.pid as number;
}

function run(command: string, args: string[], what: string, env: Record<string, string> = {}): string {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(
      `${what} failed (exit ${result.status ?? result.signal}):\n${(result.stderr || result.stdout || '').slice(-2000)}`,
    );
  }
  return result.stdout;
}

export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
  });
}

async function kafkaAnswers(brokers: string): Promise<boolean> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({
    clientId: 'recsys-services',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 2_000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  diagnostics: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} did not answer within ${timeoutMs / 1000}s. Last log lines:\n${diagnostics()}`);
}

function tail(...files: string[]): string {
  return files
    .filter((file) => existsSync(file))
    .map((file) => `--- ${file}\n${readFileSync(file, 'utf8').split('\n').slice(-20).join('\n')}`)
    .join('\n');
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopPid(pid: number, name: string, say: Say): Promise<void> {
  if (!isAlive(pid)) return;
  say(`stopping ${name} (pid ${pid})`);
  try {
    process.kill(-pid, 'SIGTERM'); // the whole process group (detached)
  } catch {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
  }
  const deadline = Date.now() + 15_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (isAlive(pid)) {
    say(`${name} did not stop in 15s; killing it`);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      process.kill(pid, 'SIGKILL');
    }
  }
}
