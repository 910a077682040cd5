import { spawnSync } from 'node:child_process';

/**
 * Installs a Debian package for a test that needs a real tool (Chromium, Prometheus) when running
 * as root on Debian/Ubuntu; otherwise throws `howToInstall`, which says what to install.
 */
export function installDebianPackage(pkg: string, who: string, howToInstall: string): void {
  const isRoot = process.getuid?.() === 0;
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status === 0;
  if (!isRoot || !apt) throw new Error(howToInstall);
  process.stderr.write(`${who}: installing ${pkg} with apt-get (Debian package)\n`);
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', pkg],
  ]) {
    const result = spawnSync('apt-get', args, {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed:\n${result.stderr}`);
  }
}
