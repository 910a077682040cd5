import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { waitUntil } from './wait.ts';

const root = resolve(import.meta.dirname, '../..');

/** `recsys start` as a user runs it, embedded, on a free port: a child process and its output. */
export class StartProcess {
  readonly child: ChildProcess;
  output = '';
  exit: number | null | undefined;

  constructor(dataDir: string) {
    this.child = spawn(process.execPath, [join(root, 'bin/recsys.mjs'), 'start'], {
      cwd: root,
      env: {
        ...process.env,
        KAFKA_BROKERS: '',
        REDIS_URL: '',
        RECSYS_DATA_DIR: dataDir,
        PORT: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.on('exit', (code) => (this.exit = code));
  }

  /** The API's base URL, once printed. */
  get url(): string | undefined {
    return /API and docs\s+(http:\/\/\S+)\/docs/.exec(this.output)?.[1];
  }

  /** Waits until the seeded demo history has been trained on. */
  async demoLearned(timeoutMs = 120_000): Promise<string> {
    await waitUntil(
      () => /trained on the [\d,]+ demo events/.test(this.output),
      'the demo to be learned',
      timeoutMs,
    );
    return this.url as string;
  }

  /** SIGTERM, then the exit code. */
  async stop(): Promise<number | null> {
    if (this.exit === undefined) this.child.kill('SIGTERM');
    await waitUntil(() => this.exit !== undefined, 'recsys start to exit', 30_000);
    return this.exit ?? null;
  }
}
