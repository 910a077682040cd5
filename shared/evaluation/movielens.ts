import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecsysError } from '../errors/index.ts';

/** One rating of MovieLens, with 0-based user and item indices. */
export interface Rating {
  readonly user: number;
  readonly item: number;
  readonly rating: number;
  /** Seconds since the epoch (as in the data set). */
  readonly time: number;
}

export interface MovieLensItem {
  readonly id: string;
  readonly title: string;
  readonly genres: readonly string[];
  readonly year: number | undefined;
}

export interface MovieLensUser {
  readonly id: string;
  readonly age: number;
  readonly gender: string;
  readonly occupation: string;
}

export interface MovieLens {
  readonly users: readonly MovieLensUser[];
  readonly items: readonly MovieLensItem[];
  /** In file order (which is random); sort by time for streaming protocols. */
  readonly ratings: readonly Rating[];
}

const REQUIRED = ['u.data', 'u.item', 'u.user', 'u.genre'];

/**
 * Reads MovieLens 100K from its folder (`../shared/datasets/ml-100k`). The files are read in
 * place, never copied (the data set's terms forbid redistribution). u.item is latin-1.
 */
export function loadMovieLens100k(dir: string): MovieLens {
  const missing = REQUIRED.filter((file) => !existsSync(join(dir, file)));
  if (missing.length > 0) {
    throw new RecsysError('DATASET_NOT_FOUND', {
      message: `MovieLens 100K not found in ${dir} (missing ${missing.join(', ')}). Point --data at the ml-100k folder, e.g. ../shared/datasets/ml-100k.`,
    });
  }
  const genres = lines(join(dir, 'u.genre'), 'latin1')
    .map((line) => line.split('|'))
    .filter((parts) => parts.length === 2)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((parts) => parts[0] as string);

  const items = lines(join(dir, 'u.item'), 'latin1').map((line, index) => {
    const parts = line.split('|');
    if (parts.length !== 5 + genres.length) invalid('u.item', index, `expected ${5 + genres.length} fields`);
    if (Number(parts[0]) !== index + 1) invalid('u.item', index, 'ids must be 1..n in order');
    const flags = parts.slice(5);
    const year = /(\d{4})$/.exec(parts[2] ?? '')?.[1];
    return {
      id: parts[0] as string,
      title: parts[1] as string,
      genres: genres.filter((_, g) => flags[g] === '1'),
      year: year === undefined ? undefined : Number(year),
    };
  });

  const users = lines(join(dir, 'u.user'), 'latin1').map((line, index) => {
    const parts = line.split('|');
    if (parts.length !== 5 || Number(parts[0]) !== index + 1)
      invalid('u.user', index, 'expected 5 fields, ids 1..n');
    return {
      id: parts[0] as string,
      age: Number(parts[1]),
      gender: parts[2] as string,
      occupation: parts[3] as string,
    };
  });

  const ratings = lines(join(dir, 'u.data'), 'ascii').map((line, index) => {
    const parts = line.split('\t');
    const [user, item, rating, time] = parts.map(Number) as [number, number, number, number];
    if (parts.length !== 4 || !(user >= 1 && user <= users.length) || !(item >= 1 && item <= items.length)) {
      invalid('u.data', index, 'expected user, item, rating, timestamp within the known ids');
    }
    return { user: user - 1, item: item - 1, rating, time };
  });
  return { users, items, ratings };
}

function lines(file: string, encoding: BufferEncoding): string[] {
  return readFileSync(file, encoding)
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '');
}

function invalid(file: string, index: number, reason: string): never {
  throw new RecsysError('DATASET_INVALID', { message: `${file} line ${index + 1}: ${reason}.` });
}

/**
 * The total order of the data set as a stream: by time, then user, then item. MovieLens users
 * often rated many movies within the same second, so the tie-break matters (docs/evaluation.md):
 * it does not depend on the file's (random) line order.
 */
export function compareInTime(a: Rating, b: Rating): number {
  return a.time - b.time || a.user - b.user || a.item - b.item;
}

export function inTimeOrder(ratings: readonly Rating[]): Rating[] {
  return [...ratings].sort(compareInTime);
}
