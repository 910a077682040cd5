import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { waitUntil } from './wait.ts';

const root = resolve(import.meta.dirname, '../..');

/** A `recsys serving` process of a test, listening on a free port; its log lines kept. */
export class ServingProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  url: string | undefined;

  private constructor(child: ChildProcess) {
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        if (line.includes('"serving listening"')) this.url = (JSON.parse(line) as { url: string }).url;
      });
    }
  }

  static async start(env: Record<string, string>): Promise<ServingProcess> {
    const child = spawn(process.execPath, [join(root, 'bin', 'recsys.mjs'), 'serving', '--port', '0'], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'info', LOG_PRETTY: 'false', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const serving = new ServingProcess(child);
    await waitUntil(
      () => serving.url !== undefined || child.exitCode !== null,
      'serving to listen',
      60_000,
      50,
    );
    if (serving.url === undefined)
      throw new Error(`serving exited with ${child.exitCode}:\n${serving.lines.slice(-20).join('\n')}`);
    return serving;
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolveExit) =>
      this.child.once('exit', (code) => resolveExit(code)),
    );
    this.child.kill('SIGTERM');
    return exited;
  }
}
