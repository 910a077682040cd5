import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { openModelStore } from '../../shared/adapters/open.ts';
import type { RecsysConfig } from '../../shared/config/index.ts';
import { RecsysError } from '../../shared/errors/index.ts';
import { MODEL_TABLES, type SnapshotEntry } from '../../shared/ports/index.ts';
import { EXIT } from '../exit-codes.ts';
import { toolLogger, type CommandIo } from '../run-command.ts';

export const SNAPSHOT_FORMAT = 'recsys-snapshot';
export const SNAPSHOT_VERSION = 1;
const KINDS = new Set(['row', 'offsets', 'counter', 'history', 'registry', 'popularity', 'item', 'user']);
const RESTORE_CHUNK = 5_000;

/**
 * `recsys export`: the whole model state (rows of every model table, offsets, counters, histories,
 * registries, popularity, catalog) as JSON lines, from Redis or the embedded store. `recsys import`
 * writes such a file into an empty store (either adapter): backups, moving the embedded demo to
 * Redis, seeding a staging environment.
 */
export function exportCommand(
  io: CommandIo,
  config: () => RecsysConfig,
  setCode: (code: number) => void,
): Command {
  return new Command('export')
    .description(
      'write the model state (rows, offsets, counters, histories, popularity, catalog) as JSON lines',
    )
    .option('-o, --out <file>', 'where to write ("-" for stdout)', '-')
    .addHelpText(
      'after',
      `
Examples:
  recsys export -o backup.jsonl                                   # the embedded store in data/
  REDIS_URL=redis://localhost:6379 recsys export > backup.jsonl

Stop the trainers first for a consistent snapshot (serving may keep running). The first line is a
header {"format":"${SNAPSHOT_FORMAT}","version":${SNAPSHOT_VERSION},...}; every other line one entry.`,
    )
    .action(async (flags: { out: string }) => {
      const cfg = config();
      const logger = toolLogger(cfg, io, 'recsys-export');
      const store = await openModelStore(cfg, logger, 'recsys-export', { readOnly: true });
      const out = flags.out === '-' ? process.stdout : createWriteStream(flags.out);
      const counts = new Map<string, number>();
      try {
        const write = async (line: string) => {
          if (!out.write(`${line}\n`)) await once(out, 'drain');
        };
        await write(
          JSON.stringify({
            format: SNAPSHOT_FORMAT,
            version: SNAPSHOT_VERSION,
            exportedAt: new Date().toISOString(),
            source: store.kind,
            tables: MODEL_TABLES,
          }),
        );
        for await (const entry of store.snapshot(MODEL_TABLES)) {
          await write(JSON.stringify(entry));
          counts.set(entry.kind, (counts.get(entry.kind) ?? 0) + 1);
        }
      } finally {
        if (out !== process.stdout) await new Promise<void>((resolve) => out.end(resolve));
        await store.close();
      }
      io.stderr.write(`export: ${summary(counts)}${flags.out === '-' ? '' : ` -> ${flags.out}`}\n`);
      setCode(EXIT.OK);
    });
}

export function importCommand(
  io: CommandIo,
  config: () => RecsysConfig,
  setCode: (code: number) => void,
): Command {
  return new Command('import')
    .description('load a file written by "recsys export" into an empty model store')
    .argument('<file>', 'the snapshot ("-" for stdin)')
    .option('--force', 'import even when the store already holds state (entries overwrite what they name)')
    .addHelpText(
      'after',
      `
Examples:
  REDIS_URL=redis://localhost:6379 recsys import backup.jsonl
  recsys import backup.jsonl --force

Every line is checked before anything is written: a bad file changes nothing. Stop trainers and
serving while importing; they reload everything when they start.`,
    )
    .action(async (file: string, flags: { force?: boolean }) => {
      const entries = await readSnapshot(file);
      const cfg = config();
      const logger = toolLogger(cfg, io, 'recsys-import');
      const store = await openModelStore(cfg, logger, 'recsys-import');
      try {
        if (!flags.force) {
          for await (const _entry of store.snapshot(MODEL_TABLES)) {
            io.stderr.write(
              'recsys import: the model store is not empty; use --force to import over it (or point REDIS_URL / RECSYS_DATA_DIR elsewhere).\n',
            );
            setCode(EXIT.FAILURE);
            return;
          }
        }
        for (let start = 0; start < entries.length; start += RESTORE_CHUNK)
          await store.restore(entries.slice(start, start + RESTORE_CHUNK));
      } finally {
        await store.close();
      }
      const counts = new Map<string, number>();
      for (const e of entries) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
      io.stderr.write(`import: ${summary(counts)}\n`);
      setCode(EXIT.OK);
    });
}

/** Reads and checks a whole snapshot file; throws (line number, reason) on the first bad line. */
export async function readSnapshot(file: string): Promise<SnapshotEntry[]> {
  const input = file === '-' ? process.stdin : createReadStream(file);
  const entries: SnapshotEntry[] = [];
  let line = 0;
  const bad = (reason: string) =>
    new RecsysError('DATASET_INVALID', {
      message: `${file}, line ${line}: ${reason}. Nothing was imported.`,
    });
  try {
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      line++;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw bad('not JSON');
      }
      if (line === 1) {
        const header = value as { format?: unknown; version?: unknown };
        if (header.format !== SNAPSHOT_FORMAT) throw bad(`not a ${SNAPSHOT_FORMAT} file (no header)`);
        if (header.version !== SNAPSHOT_VERSION)
          throw bad(
            `snapshot version ${String(header.version)}; this recsys reads version ${SNAPSHOT_VERSION}`,
          );
        continue;
      }
      const entry = value as { kind?: unknown };
      if (
        typeof entry !== 'object' ||
        entry === null ||
        typeof entry.kind !== 'string' ||
        !KINDS.has(entry.kind)
      )
        throw bad('not a snapshot entry (unknown "kind")');
      entries.push(value as SnapshotEntry);
    }
  } catch (error) {
    if (error instanceof RecsysError) throw error;
    throw new RecsysError('DATASET_INVALID', {
      message: `Cannot read ${file}: ${(error as Error).message}`,
      cause: error,
    });
  }
  if (line === 0)
    throw new RecsysError('DATASET_INVALID', { message: `${file} is empty. Nothing was imported.` });
  return entries;
}

const LABELS: Readonly<Record<string, readonly [string, string]>> = {
  row: ['row', 'rows'],
  offsets: ['offset scope', 'offset scopes'],
  counter: ['counter', 'counters'],
  history: ['history', 'histories'],
  registry: ['item registry', 'item registries'],
  popularity: ['popularity segment', 'popularity segments'],
  item: ['item', 'items'],
  user: ['user', 'users'],
};

function summary(counts: ReadonlyMap<string, number>): string {
  const parts = [...counts].map(
    ([kind, n]) => `${n.toLocaleString('en-US')} ${(LABELS[kind] ?? [kind, kind])[n === 1 ? 0 : 1]}`,
  );
  return parts.length === 0 ? 'nothing (empty store)' : parts.join(', ');
}
