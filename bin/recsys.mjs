#!/usr/bin/env node
// The `recsys` command. The project runs its TypeScript sources directly on Node >= 22.18 (type
// stripping); on an older Node this launcher re-runs itself under Node 24, which
// scripts/node24.sh installs from the npm registry into a cache folder when needed.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
const supported = major > 22 || (major === 22 && minor >= 18);

if (!supported) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const result = spawnSync(
    'bash',
    [join(root, 'scripts', 'node24.sh'), 'node', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  process.exit(result.status ?? 1);
} else {
  // kafkajs 2.2 schedules a timer with a negative delay on newer Node versions; the warning is
  // harmless (kafkajs issue #1751) and would only confuse users.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name !== 'TimeoutNegativeWarning')
      process.stderr.write(`${warning.name}: ${warning.message}\n`);
  });
  const { main } = await import('../cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
