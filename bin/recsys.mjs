#!/usr/bin/env node
// The `recsys` command. The project runs its TypeScript sources directly on Node >= 22.18 (type
// stripping); on an older Node this launcher re-runs itself under Node 24, which
// scripts/node24.sh installs from the npm registry into a cache folder when needed.
import { spawn } from 'node:child_process';
import { setInterval } from 'node:timers';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
const supported = major > 22 || (major === 22 && minor >= 18);

if (!supported) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const self = fileURLToPath(import.meta.url);
  const child = spawn('bash', [join(root, 'scripts', 'node24.sh'), 'node', self, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  // Signals sent to this launcher (kill, a supervisor's SIGTERM) reach the real process; if the
  // launcher itself dies (kill -9), scripts/node24.sh's parent-death signal stops the child.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  // `npm start` signals only its shell, which dies without passing the signal on: when this
  // launcher's parent goes away, it stops the real process as if it had been sent SIGTERM.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) child.kill('SIGTERM');
  }, 500).unref();
  child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
} else {
  const { filterKnownWarnings } = await import('../shared/observability/warnings.ts');
  filterKnownWarnings();
  const { main } = await import('../cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
