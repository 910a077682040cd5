import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DeepPartial, Config } from '../../shared/config/index.ts';
import type { ServiceEndpoints } from './services.ts';
import { waitUntil } from './wait.ts';

const root = resolve(import.meta.dirname, '../..');

/** Writes a config file for a test's processes; returns its path. */
export function writeTestConfig(config: DeepPartial<Config>): string {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-config-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** A `recsys trainer` process of a test, its JSON log lines kept for inspection. */
export class TrainerProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  metricsUrl: string | undefined;
  #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(child: ChildProcess) {
    this.child = child;
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        this.lines.push(line);
        if (line.includes('trainer metrics and health')) {
          try {
            this.metricsUrl = (JSON.parse(line) as { url: string }).url;
          } catch {
            /* not JSON */
          }
        }
        newline = buffer.indexOf('\n');
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.#exit = new Promise((resolveExit) =>
      child.once('exit', (code, signal) => resolveExit({ code, signal })),
    );
  }

  /** Starts `recsys trainer` against the test's services; resolves once it has started. */
  static async start(
    services: ServiceEndpoints,
    options: { configFile: string; env?: Record<string, string>; args?: string[]; waitStarted?: boolean },
  ): Promise<TrainerProcess> {
    const child = spawn(
      process.execPath,
      [join(root, 'bin', 'recsys.mjs'), 'trainer', ...(options.args ?? [])],
      {
        cwd: root,
        env: {
          ...process.env,
          KAFKA_BROKERS: services.kafkaBrokers,
          REDIS_URL: services.redisUrl,
          RECSYS_CONFIG: options.configFile,
          LOG_LEVEL: 'info',
          LOG_PRETTY: 'false',
          ...options.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const trainer = new TrainerProcess(child);
    if (options.waitStarted !== false) {
      await waitUntil(
        () => trainer.lines.some((l) => l.includes('"trainer started"')) || child.exitCode !== null,
        'the trainer to start',
        60_000,
        50,
      );
      if (child.exitCode !== null)
        throw new Error(`trainer exited with ${child.exitCode}:\n${trainer.lines.slice(-20).join('\n')}`);
    }
    return trainer;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exit;
  }

  /** The partitions of the latest assignment the trainer logged (undefined before the first). */
  assigned(): number[] | undefined {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const line = this.lines[i] as string;
      if (!line.includes('partitions assigned; continuing')) continue;
      try {
        return (JSON.parse(line) as { partitions: number[] }).partitions;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    if (this.metricsUrl === undefined) throw new Error('no metrics URL');
    const text = await (await fetch(`${this.metricsUrl}/metrics`)).text();
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
        total += Number(line.split(' ').pop());
    }
    return total;
  }
}
