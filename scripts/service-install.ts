/**
 * Where the local services' programs come from: Redis from Debian's `redis-server` (installed
 * when missing and we may), Java from the machine, Kafka's jars from Maven Central (fetched once
 * with scripts/kafka/pom.xml into a cache every clone shares).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const KAFKA_VERSION = readFileSync(join(ROOT, 'scripts', 'kafka', 'pom.xml'), 'utf8').match(
  /<kafka\.version>([^<]+)<\/kafka\.version>/,
)?.[1] as string;

export type Say = (line: string) => void;

export function cacheDir(): string {
  return (
    process.env['RECSYS_CACHE_DIR'] ??
    join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'recsys')
  );
}

function which(binary: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const path = result.stdout.trim();
  return result.status === 0 && path !== '' ? path : undefined;
}

export function ensureRedisBinary(say: Say): string {
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

export function ensureJava(): string {
  const java = which('java');
  if (java === undefined) {
    throw new Error(
      'java (17 or newer) is not installed; Apache Kafka needs it. Install a JDK 17 (Debian: apt-get install -y openjdk-17-jre-headless), or set KAFKA_BROKERS to a running broker.',
    );
  }
  return java;
}

/** The broker's jars, fetched from Maven Central once per machine. */
export function ensureKafkaJars(say: Say): string {
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

export function run(command: string, args: string[], what: string, env: Record<string, string> = {}): string {
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
