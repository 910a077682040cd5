import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../scripts/local-services.ts';
import { signalAndWait } from './child.ts';
import { waitUntil } from './wait.ts';

/**
 * A redis-server of the test's own (AOF on, data in a temporary folder), so a test can stop and
 * restart it without disturbing the shared one. Needs the redis-server binary (Debian package).
 */
export class OwnRedis {
  readonly port: number;
  readonly dir: string;
  #child: ChildProcess | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<OwnRedis> {
    const binary = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
    if (binary === '')
      throw new Error('This test needs the redis-server binary (Debian: apt-get install -y redis-server).');
    const [port] = (await freePorts(1)) as [number];
    const redis = new OwnRedis(port, mkdtempSync(join(tmpdir(), 'recsys-redis-')));
    await redis.resume();
    return redis;
  }

  /** Starts (again) on the same port and data folder; resolves when it answers. */
  async resume(): Promise<void> {
    this.#child = spawn(
      'redis-server',
      [
        '--bind',
        '127.0.0.1',
        '--port',
        String(this.port),
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    await waitUntil(
      () =>
        spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' }).stdout.trim() ===
        'PONG',
      'redis to answer',
      20_000,
      50,
    );
  }

  /** Freezes the process (SIGSTOP): connections stay open, nothing answers. */
  freeze(): void {
    this.#child?.kill('SIGSTOP');
  }

  /** Lets a frozen process run again (SIGCONT). */
  thaw(): void {
    this.#child?.kill('SIGCONT');
  }

  /** Stops it cleanly (SIGTERM: Redis flushes its AOF and exits). */
  async stop(): Promise<void> {
    await signalAndWait(this.#child, 'SIGTERM');
  }

  /** Kills it (SIGKILL: no shutdown, no final flush); resolves once it is gone. */
  async kill(): Promise<void> {
    await signalAndWait(this.#child, 'SIGKILL');
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
