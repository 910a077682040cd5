import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { RecsysError } from '../shared/errors/index.ts';
import {
  ItemRecordSchema,
  UserRecordSchema,
  createValidator,
  parseJson,
  type EventCodec,
  type InteractionEvent,
  type ItemRecord,
  type UserRecord,
} from '../shared/schemas/index.ts';

/**
 * Data sets as files in the event contract users already publish: events as JSON lines (one
 * InteractionEvent per line) or CSV with a header line (columns userId, itemId, type, value,
 * timestamp, eventId and context.<field>); catalog items and users as JSON lines. Every row is
 * checked as the API checks it; a bad row is an error naming the file and line, or, with
 * skipInvalid, skipped and counted. Events keep file order (a file without timestamps is
 * replayed in that order).
 */
export interface FileRows<T> {
  readonly rows: T[];
  /** Bad rows left out (only with skipInvalid). */
  readonly skipped: number;
  /** The first few bad rows, as `file:line: reason`. */
  readonly problems: string[];
}

export function readEventsFile(
  path: string,
  codec: EventCodec,
  skipInvalid = false,
): FileRows<InteractionEvent> {
  const text = readText(path);
  const isCsv = /\.csv$/i.test(path);
  const rows: InteractionEvent[] = [];
  const problems: string[] = [];
  let skipped = 0;
  const take = (line: number, value: unknown) => {
    const result = codec.validate(value);
    if (result.ok) rows.push(result.value);
    else skipped = reject(path, line, result.error.message, skipInvalid, problems, skipped);
  };
  if (isCsv) {
    let header: string[] | undefined;
    text.split('\n').forEach((line, r) => {
      if (line.trim() === '') return;
      const cells = splitCsv(line);
      if (header === undefined) {
        if (!cells.includes('userId') || !cells.includes('itemId')) {
          throw new RecsysError('VALIDATION_FAILED', {
            message: `${basename(path)}:${r + 1}: the header line must name the columns userId and itemId (and type, value, timestamp, eventId, context.<field>).`,
          });
        }
        header = cells;
        return;
      }
      take(r + 1, eventFromCsv(header, cells));
    });
  } else {
    text.split('\n').forEach((line, r) => {
      if (line.trim() === '') return;
      const parsed = parseJson(line);
      if (!parsed.ok) skipped = reject(path, r + 1, parsed.error.message, skipInvalid, problems, skipped);
      else take(r + 1, parsed.value);
    });
  }
  return { rows, skipped, problems };
}

/** A CSV row as an event: known columns by name, context.<field> columns into the context. */
export function eventFromCsv(header: readonly string[], cells: readonly string[]): Record<string, unknown> {
  const event: Record<string, unknown> = {};
  const context: Record<string, string | number> = {};
  header.forEach((column, i) => {
    const cell = cells[i];
    if (cell === undefined || cell === '') return;
    if (column.startsWith('context.')) context[column.slice('context.'.length)] = numeric(cell);
    else if (column === 'value') event['value'] = Number(cell);
    else if (column === 'timestamp') event['timestamp'] = /^\d+$/.test(cell) ? Number(cell) : cell;
    else event[column] = cell;
  });
  if (Object.keys(context).length > 0) event['context'] = context;
  return event;
}

/** Splits one CSV line (RFC 4180 quoting: "a ""quoted"", value"). */
export function splitCsv(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      cells.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  cells.push(cell.trim());
  return cells;
}

/** A cell as a number when it is one (context values such as an hour). */
export function numeric(value: string): string | number {
  return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
}

const validItem = createValidator<ItemRecord>(ItemRecordSchema, 'VALIDATION_FAILED', 'item');
const validUser = createValidator<UserRecord>(UserRecordSchema, 'VALIDATION_FAILED', 'user');

export function readItemsFile(path: string, skipInvalid = false): FileRows<ItemRecord> {
  return readRecords(path, validItem, skipInvalid);
}

export function readUsersFile(path: string, skipInvalid = false): FileRows<UserRecord> {
  return readRecords(path, validUser, skipInvalid);
}

function readRecords<T>(
  path: string,
  validate: (value: unknown) => { ok: true; value: T } | { ok: false; error: RecsysError },
  skipInvalid: boolean,
): FileRows<T> {
  const rows: T[] = [];
  const problems: string[] = [];
  let skipped = 0;
  readText(path)
    .split('\n')
    .forEach((line, r) => {
      if (line.trim() === '') return;
      const parsed = parseJson(line);
      const result = parsed.ok ? validate(parsed.value) : parsed;
      if (result.ok) rows.push(result.value);
      else skipped = reject(path, r + 1, result.error.message, skipInvalid, problems, skipped);
    });
  return { rows, skipped, problems };
}

function reject(
  path: string,
  line: number,
  reason: string,
  skipInvalid: boolean,
  problems: string[],
  skipped: number,
): number {
  const where = `${basename(path)}:${line}: ${reason}`;
  if (!skipInvalid) {
    throw new RecsysError('VALIDATION_FAILED', {
      message: `${where} (fix the row, or pass --skip-invalid to leave bad rows out)`,
    });
  }
  if (problems.length < 5) problems.push(where);
  return skipped + 1;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new RecsysError('VALIDATION_FAILED', {
      message: `Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
    });
  }
}
