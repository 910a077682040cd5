import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Where MovieLens 100K lives: beside the repository (`../shared/datasets/ml-100k`, never copied
 * into it), or wherever RECSYS_ML100K points.
 */
const candidates = [
  process.env['RECSYS_ML100K'],
  resolve(import.meta.dirname, '../../../shared/datasets/ml-100k'),
].filter((dir): dir is string => dir !== undefined && dir !== '');

export const ML100K =
  candidates.find((dir) => existsSync(resolve(dir, 'u.data'))) ??
  (candidates[candidates.length - 1] as string);

/**
 * True when the data set is present. Locally, tests that need it skip (with this message) when it
 * is absent; in CI (CI=true) its absence is a failure, since CI machines have it.
 */
export function movieLensAvailable(): boolean {
  if (existsSync(resolve(ML100K, 'u.data'))) return true;
  const message = `MovieLens 100K not found (looked in ${candidates.join(', ')}); the tests that need it are skipped. Put the ml-100k folder at ../shared/datasets/ml-100k beside the repository or set RECSYS_ML100K (see ../shared/datasets/README.md).`;
  if (process.env['CI'] === 'true') throw new Error(`${message} In CI this is a failure.`);
  process.stderr.write(`${message}\n`);
  return false;
}
