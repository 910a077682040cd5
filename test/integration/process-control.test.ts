import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/wait.ts';

const root = resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * The machine's own `node` when it is older than 22.18: the one with which bin/recsys.mjs runs
 * the real process as a child under Node 24 (CI's machines have Node 20).
 */
function oldNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    try {
      const version = execFileSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
      const [major = 0, minor = 0] = version.split('.').map(Number);
      if (major < 22 || (major === 22 && minor < 18)) return candidate;
    } catch {
      /* not there */
    }
  }
  return undefined;
}

const alive = async (url: string) =>
  fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
    () => true,
    () => false,
  );

/** Starts `recsys start` (embedded, no demo, a free port) through `argv`; resolves with its URL. */
async function started(argv: [string, ...string[]]): Promise<{ child: ChildProcess; url: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'recsys-proc-'));
  dirs.push(dataDir);
  const child = spawn(argv[0], argv.slice(1), {
    cwd: root,
    env: { ...process.env, KAFKA_BROKERS: '', REDIS_URL: '', RECSYS_DATA_DIR: dataDir, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let url: string | undefined;
  await waitUntil(
    () => (url = /API and docs\s+(http:\/\/\S+)\/docs/.exec(output)?.[1]) !== undefined,
    'recsys start to listen',
    120_000,
  );
  expect(await alive(url as string)).toBe(true);
  return { child, url: url as string };
}

describe('process control of the launcher (Node older than 22.18)', () => {
  const node = oldNode();
  // CI's machines have an old Node: there this must run. Elsewhere the launcher path does not exist.
  if (process.env['CI'] === 'true') expect(node, 'an old node on the CI machine').toBeDefined();
  const bin = join(root, 'bin/recsys.mjs');

  it.runIf(node !== undefined)(
    "stops the server when npm's shell is killed (npm start signals only its shell)",
    async () => {
      // `; true` keeps sh from exec'ing node: as under npm, the shell is the launcher's parent.
      const { child, url } = await started(['sh', '-c', `${node} ${bin} start --no-demo; true`]);
      child.kill('SIGTERM');
      await waitUntil(async () => !(await alive(url)), 'the server to stop after its shell died', 30_000);
    },
    180_000,
  );

  it.runIf(node !== undefined)(
    'stops the server when the launcher is killed with SIGKILL',
    async () => {
      const { child, url } = await started([node as string, bin, 'start', '--no-demo']);
      child.kill('SIGKILL');
      await waitUntil(async () => !(await alive(url)), 'the server to stop after its launcher died', 30_000);
    },
    180_000,
  );
});

describe('scripts/node24.sh', () => {
  it('stops the command it runs when its own parent dies', async () => {
    const script = join(root, 'scripts/node24.sh');
    // sh prints the pid of the node process node24.sh runs, then waits; sh is then killed.
    const sh = spawn(
      'sh',
      ['-c', `${script} node -e "console.log(process.pid); setInterval(() => {}, 1000)"; true`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(sh);
    let out = '';
    sh.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitUntil(() => /^\d+\n/.test(out), 'the command to start', 60_000);
    const pid = Number(out.trim());
    const running = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(running()).toBe(true);
    sh.kill('SIGKILL');
    await waitUntil(() => !running(), 'the command to be stopped when its parent died', 30_000);
  }, 90_000);
});
