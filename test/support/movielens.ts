import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** Where MovieLens 100K lives beside the repository (never copied into it). */
export const ML100K = resolve(import.meta.dirname, '../../../shared/datasets/ml-100k');

/**
 * True when the data set is present. Locally, tests that need it skip (with this message) when it
 * is absent; in CI (CI=true) its absence is a failure, since CI machines have it.
 */
export function movieLensAvailable(): boolean {
  if (existsSync(resolve(ML100K, 'u.data'))) return true;
  const message = `MovieLens 100K not found at ${ML100K}; the tests that need it are skipped. Put the ml-100k folder there (see ../shared/datasets/README.md).`;
  if (process.env['CI'] === 'true') throw new Error(`${message} In CI this is a failure.`);
  process.stderr.write(`${message}\n`);
  return false;
}
