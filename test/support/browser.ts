import { existsSync } from 'node:fs';
import { installDebianPackage } from './debian.ts';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/**
 * A Chromium for browser tests: CHROMIUM_PATH, else the Debian package's binary, else (as root on
 * Debian/Ubuntu) installs the `chromium` package; otherwise fails saying what to install.
 */
export function chromiumPath(): string {
  const configured = process.env['CHROMIUM_PATH'];
  if (configured !== undefined && configured !== '') {
    if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH=${configured} does not exist.`);
    return configured;
  }
  const found = CANDIDATES.find((path) => existsSync(path));
  if (found !== undefined) return found;
  installDebianPackage(
    'chromium',
    'browser tests',
    'The browser tests need Chromium: install it (Debian/Ubuntu: sudo apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium or Chrome binary.',
  );
  const installed = CANDIDATES.find((path) => existsSync(path));
  if (installed === undefined) throw new Error('apt-get installed chromium, but no binary was found.');
  return installed;
}
