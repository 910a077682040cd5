import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RecsysError } from '../../errors/index.ts';

const held = new Set<string>();

/**
 * Makes this process the only writer of an embedded data folder: `<dir>/.lock` holds the owner's
 * pid. A live owner other than this process is a DATA_DIR_IN_USE error; a dead owner's lock is
 * taken over. Re-entrant within a process; released when the process exits.
 */
export function lockDataDir(dir: string): void {
  const path = join(resolve(dir), '.lock');
  if (held.has(path)) return;
  mkdirSync(resolve(dir), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(path);
      if (held.size === 1) process.once('exit', releaseAll);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(readFileSafe(path));
    if (owner === process.pid) {
      held.add(path);
      return;
    }
    if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
      const api = ownerApi(dir, owner);
      throw new RecsysError('DATA_DIR_IN_USE', {
        message: `The data folder ${resolve(dir)} is in use by recsys process ${owner}. ${
          api === undefined
            ? 'Send events through its API (recsys publish --api <its URL>)'
            : `Send events through its API (recsys publish --api ${api})`
        }, stop it first, or use Kafka and Redis.`,
      });
    }
    rmSync(path, { force: true }); // a stale lock: its process is gone
  }
  throw new RecsysError('DATA_DIR_IN_USE', { message: `Could not lock the data folder ${resolve(dir)}.` });
}

/**
 * Records where the owner of a locked data folder answers (`<dir>/.api`: pid and URL), so that a
 * second process refused the folder can name the API to use instead.
 */
export function recordDataDirApi(dir: string, url: string): void {
  writeFileSync(join(resolve(dir), '.api'), `${process.pid} ${url}\n`);
}

function ownerApi(dir: string, owner: number): string | undefined {
  const [pid, url] = readFileSafe(join(resolve(dir), '.api')).split(' ');
  return Number(pid) === owner && url !== undefined && /^https?:\/\//.test(url) ? url : undefined;
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseAll(): void {
  for (const path of held) if (readFileSafe(path) === String(process.pid)) rmSync(path, { force: true });
  held.clear();
}
