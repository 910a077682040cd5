import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEventsFile, readItemsFile } from '../../../cli/event-files.ts';
import { loadConfig } from '../../../shared/config/index.ts';
import { RecsysError } from '../../../shared/errors/index.ts';
import { createEventCodec } from '../../../shared/schemas/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'recsys-event-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = loadConfig({ env: {} });
const codec = createEventCodec({ types: config.events.types, maxBytes: config.events.maxBytes });

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function failure(run: () => unknown): RecsysError {
  try {
    run();
  } catch (error) {
    if (error instanceof RecsysError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('event files', () => {
  it('reads CSV with a header and context.<field> columns, numbers where the contract has them', () => {
    const path = file(
      'a.csv',
      'userId,itemId,type,value,timestamp,context.device,context.hour,context.weather\n' +
        'u1,a1,click,3,1700000000000,mobile,21,"sunny, warm"\n' +
        'u2,a2,click,,,desktop,,\n',
    );
    expect(readEventsFile(path, codec).rows).toEqual([
      {
        userId: 'u1',
        itemId: 'a1',
        type: 'click',
        value: 3,
        timestamp: 1700000000000,
        context: { device: 'mobile', hour: 21, weather: 'sunny, warm' },
      },
      { userId: 'u2', itemId: 'a2', type: 'click', context: { device: 'desktop' } },
    ]);
  });

  it('names the file and line of a bad row, or skips and counts bad rows when asked', () => {
    const path = file(
      'b.jsonl',
      '{"userId":"u1","itemId":"a1","type":"click"}\n\n{"userId":"u2","itemId":"a2","type":"teleport"}\n{not json\n',
    );
    const error = failure(() => readEventsFile(path, codec));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(/^b\.jsonl:3: /);
    expect(error.message).toMatch(/--skip-invalid/);
    const skipped = readEventsFile(path, codec, true);
    expect(skipped.rows.map((e) => e.userId)).toEqual(['u1']);
    expect(skipped.skipped).toBe(2);
    expect(skipped.problems.map((p) => p.split(':').slice(0, 2).join(':'))).toEqual([
      'b.jsonl:3',
      'b.jsonl:4',
    ]);
  });

  it('refuses a CSV without the id columns, and an event out of range', () => {
    expect(failure(() => readEventsFile(file('c.csv', 'user,item\nu1,a1\n'), codec)).message).toMatch(
      /^c\.csv:1: the header line must name the columns userId and itemId/,
    );
    const hour = file('d.csv', 'userId,itemId,context.hour\nu1,a1,99\n');
    expect(failure(() => readEventsFile(hour, codec)).message).toMatch(/^d\.csv:2: /);
  });

  it('reads catalog records as JSON lines, checked as the API checks them', () => {
    const path = file('items.jsonl', '{"itemId":"a1","tags":["x"]}\n{"itemId":"a2","colour":"red"}\n');
    expect(failure(() => readItemsFile(path)).message).toMatch(/^items\.jsonl:2: /);
    expect(readItemsFile(path, true).rows).toEqual([{ itemId: 'a1', tags: ['x'] }]);
  });
});
