import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RecsysError } from '../../../shared/errors/index.ts';

/**
 * `serving.annShareDir`: serving processes on one machine (the workers of `serving.workers`, or
 * replicas sharing a volume) share HNSW builds instead of each building its own, which at a
 * million items costs minutes of a core per process. The one process with `serving.annBuilder`
 * builds into a folder of its own under the share, writes the item id of every key beside the
 * index, and then replaces `current.json`; every process (the builder too, after a restart) maps
 * the current build and translates its keys to its own positions by item id.
 *
 * Layout: `<dir>/current.json` (BuildInfo) and `<dir>/<build id>/{index.usearch, ids.txt,
 * changed.txt}`. The previous build is kept when a new one is published (a process may be
 * opening it); older ones are removed. A process that mapped a removed build keeps reading it
 * (the kernel frees a file once nobody maps it).
 */
export interface BuildInfo {
  readonly id: string;
  /** Keys in the index. */
  readonly count: number;
  /** Columns of the MF rows it was built from. */
  readonly dim: number;
  /** When the builder copied the vectors (ms since the epoch): later changes are not in it. */
  readonly snapshotAt: number;
  readonly publishedAt: number;
}

const CURRENT = 'current.json';
const IDS = 'ids.txt';
const CHANGED = 'changed.txt';

export class AnnShare {
  readonly dir: string;
  /** True in the one process that builds; the others only adopt. */
  readonly builder: boolean;

  constructor(dir: string, builder: boolean) {
    this.dir = dir;
    this.builder = builder;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw new RecsysError('CONFIG_INVALID', {
        message: `serving.annShareDir ${JSON.stringify(dir)} cannot be created: ${(error as Error).message}`,
      });
    }
  }

  /** A new, empty folder for a build. */
  newBuildDir(): { id: string; dir: string } {
    const id = `build-${Date.now()}-${randomUUID().slice(0, 8)}`;
    const dir = join(this.dir, id);
    mkdirSync(dir);
    return { id, dir };
  }

  /**
   * Publishes a finished build: `ids[key]` is the item of each key; `changed` the items that changed
   * after the snapshot (while it was building), which adopters must score exactly.
   */
  publish(
    info: Omit<BuildInfo, 'publishedAt'>,
    ids: readonly string[],
    changed: readonly string[],
  ): BuildInfo {
    const dir = join(this.dir, info.id);
    writeFileSync(join(dir, IDS), ids.join('\n'));
    writeFileSync(join(dir, CHANGED), changed.join('\n'));
    const published: BuildInfo = { ...info, publishedAt: Date.now() };
    const previous = this.current();
    const temporary = join(this.dir, `${CURRENT}.${process.pid}.tmp`);
    writeFileSync(temporary, JSON.stringify(published));
    renameSync(temporary, join(this.dir, CURRENT));
    const keep = new Set([info.id, previous?.id]);
    for (const entry of readdirSync(this.dir)) {
      if (entry.startsWith('build-') && !keep.has(entry))
        rmSync(join(this.dir, entry), { recursive: true, force: true });
    }
    return published;
  }

  /** The current build, if one was published (undefined also when the file cannot be read). */
  current(): BuildInfo | undefined {
    try {
      const info = JSON.parse(readFileSync(join(this.dir, CURRENT), 'utf8')) as BuildInfo;
      return typeof info.id === 'string' && Number.isInteger(info.count) ? info : undefined;
    } catch {
      return undefined;
    }
  }

  /** A build's index file, the item of each key and the items changed while it was building. */
  async files(info: BuildInfo): Promise<{ index: string; ids: string[]; changed: string[] }> {
    const dir = join(this.dir, info.id);
    const lines = async (name: string) => {
      const text = await readFile(join(dir, name), 'utf8');
      return text.length === 0 ? [] : text.split('\n');
    };
    const ids = await lines(IDS);
    if (ids.length !== info.count)
      throw new Error(`${join(dir, IDS)} lists ${ids.length} items, the build has ${info.count}`);
    return { index: join(dir, 'index.usearch'), ids, changed: await lines(CHANGED) };
  }
}
