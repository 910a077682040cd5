import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../cli/main.ts';
import { eventFromCsv, splitCsv } from '../../../cli/event-files.ts';
import { MemoryEventLog, MemoryModelStore, loadModelState } from '../../../shared/adapters/memory/index.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-cli-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs `recsys ...args` in-process on the embedded adapters in `dataDir`. */
async function recsys(dataDir: string, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  const saved = { ...process.env };
  Object.assign(process.env, {
    RECSYS_DATA_DIR: dataDir,
    KAFKA_BROKERS: '',
    REDIS_URL: '',
    LOG_LEVEL: 'warn',
  });
  try {
    const code = await main(args, {
      stdout: sink((s) => (stdout += s)),
      stderr: sink((s) => (stderr += s)),
    });
    return { code, stdout, stderr };
  } finally {
    process.env = saved;
  }
}

async function logged(dataDir: string): Promise<number> {
  const log = new MemoryEventLog({ partitions: 4, dataDir: join(dataDir, 'events') });
  try {
    return [...(await log.endOffsets()).values()].reduce((a, b) => a + b, 0);
  } finally {
    await log.close();
  }
}

describe('recsys publish', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = tempDir();
  });

  it('publishes the valid lines of a JSONL file and reports each invalid one by line number', async () => {
    const file = join(dataDir, 'events.jsonl');
    writeFileSync(
      file,
      [
        '{"userId":"u1","itemId":"a","type":"click"}',
        '{"userId":"u2","itemId":"b","type":"teleport"}',
        '',
        'not json',
        '{"userId":"u3","itemId":"c","type":"view","context":{"device":"mobile"}}',
      ].join('\n'),
    );
    const run = await recsys(dataDir, 'publish', '-f', file);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/2 events published to the embedded event log, 2 invalid skipped/);
    expect(run.stderr).toMatch(/^line 2: EVENT_INVALID .*teleport/m);
    expect(run.stderr).toMatch(/^line 4: MALFORMED_JSON/m);
    expect(await logged(dataDir)).toBe(2);
  });

  it('publishes one event from flags, and refuses half an event with a usage error', async () => {
    const ok = await recsys(
      dataDir,
      'publish',
      '-u',
      'u1',
      '-i',
      'a',
      '--context',
      'device=mobile',
      '--context',
      'hour=21',
    );
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toMatch(/1 event published/);
    expect(await logged(dataDir)).toBe(1);
    const half = await recsys(dataDir, 'publish', '-u', 'u1');
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/give --user and --item/);
    const badContext = await recsys(dataDir, 'publish', '-u', 'u', '-i', 'i', '--context', 'nope');
    expect(badContext.code).toBe(2);
    expect(badContext.stderr).toMatch(/must be key=value/);
  });

  it('reads CSV with a header, RFC 4180 quoting and context.<field> columns', () => {
    expect(splitCsv('u1,"b, the ""second""",click, ,mobile')).toEqual([
      'u1',
      'b, the "second"',
      'click',
      '',
      'mobile',
    ]);
    expect(
      eventFromCsv(
        ['userId', 'itemId', 'type', 'value', 'timestamp', 'context.device', 'context.hour'],
        ['u1', 'm-7', 'rating', '4.5', '1764028800000', 'mobile', '21'],
      ),
    ).toEqual({
      userId: 'u1',
      itemId: 'm-7',
      type: 'rating',
      value: 4.5,
      timestamp: 1764028800000,
      context: { device: 'mobile', hour: 21 },
    });
  });
});

describe('recsys export, import and inspect', () => {
  async function seed(dataDir: string) {
    const store = new MemoryModelStore({ file: join(dataDir, 'model.json') });
    await store.commit({
      offsets: [{ scope: 'recsys-trainer-mf', partition: 0, fromOffset: 0, nextOffset: 3 }],
      puts: [
        {
          table: 'mf:user',
          rows: [{ id: 'u1', value: { vector: Float32Array.of(3, 4), bias: 0, count: 3, updatedAt: 1 } }],
        },
      ],
      counters: [{ name: 'events:mf', field: 'u1', by: 3 }],
      history: [{ userId: 'u1', items: ['a', 'b', 'c'] }],
    });
    await store.putItems([{ id: 'a', record: { itemId: 'a', title: 'A' } }]);
    await store.close();
  }

  it('moves the whole state to another store, refuses a non-empty target and a bad file', async () => {
    const source = tempDir();
    await seed(source);
    const file = join(source, 'snapshot.jsonl');
    const exported = await recsys(source, 'export', '-o', file);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/export: 1 row, 1 offset scope, 1 counter, 1 history, 1 item/);

    const target = tempDir();
    expect((await recsys(target, 'import', file)).code).toBe(0);
    const state = loadModelState(join(target, 'model.json'));
    expect(Array.from(state.rows.get('mf:user')?.get('u1')?.vector ?? [])).toEqual([3, 4]);
    expect(state.offsets.get('recsys-trainer-mf')?.get(0)).toBe(3);
    const inspected = await recsys(target, 'inspect', 'user', 'u1', '--json');
    expect(inspected.code).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({
      known: true,
      rows: [{ table: 'mf:user', dim: 2, norm: 5, count: 3 }],
      history: ['a', 'b', 'c'],
      events: { mf: 3 },
    });

    const again = await recsys(target, 'import', file);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not empty; use --force/);
    writeFileSync(
      join(source, 'bad.jsonl'),
      `${'{"format":"recsys-snapshot","version":1}'}\n{"kind":"teleport"}\n`,
    );
    const bad = await recsys(tempDir(), 'import', join(source, 'bad.jsonl'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/line 2: not a snapshot entry .*Nothing was imported\. \[DATASET_INVALID\]/);
  });

  it('says when the store knows nothing about an id (exit 1)', async () => {
    const run = await recsys(tempDir(), 'inspect', 'item', 'nobody');
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('item nobody: not known to the model store\n');
  });
});

describe('recsys --help', () => {
  it.each([
    ['start'],
    ['trainer'],
    ['serving'],
    ['publish'],
    ['replay'],
    ['eval'],
    ['bench', 'model'],
    ['inspect', 'user'],
    ['export'],
    ['import'],
    ['generate'],
    ['config'],
    ['inspect'],
    ['bench'],
    ['bench', 'serving'],
  ])('documents %s with examples', async (...command) => {
    const run = await recsys(tempDir(), ...command, '--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: recsys /);
    expect(run.stdout).toMatch(/Examples:/);
  });
});
