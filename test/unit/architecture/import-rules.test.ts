import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');
const config = join(root, '.dependency-cruiser.cjs');
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs the project's dependency rules over a small tree of files; returns violated rule names. */
function violations(files: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-imports-'));
  dirs.push(dir);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { allowImportingTsExtensions: true, noEmit: true, module: 'nodenext' },
    }),
  );
  for (const folder of ['shared', 'services']) mkdirSync(join(dir, folder), { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const result = spawnSync(depcruise, ['--config', config, '--output-type', 'json', 'shared', 'services'], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (result.stdout.trim() === '') throw new Error(`depcruise produced no report: ${result.stderr}`);
  const report = JSON.parse(result.stdout) as { summary: { violations: { rule: { name: string } }[] } };
  return [...new Set(report.summary.violations.map((v) => v.rule.name))].sort();
}

describe('import rules (npm run lint)', () => {
  it('accept the intended direction: services -> shared, adapters -> drivers', () => {
    expect(
      violations({
        'shared/model/mf.ts': 'export const x = 1;\n',
        'shared/adapters/redis.ts':
          "import 'ioredis';\nimport { x } from '../model/mf.ts';\nexport const y = x;\n",
        'services/trainer/main.ts':
          "import { y } from '../../shared/adapters/redis.ts';\nexport const z = y;\n",
      }),
    ).toEqual([]);
  });

  it('fail on shared importing a service', () => {
    expect(
      violations({
        'services/serving/app.ts': 'export const app = 1;\n',
        'shared/schemas/x.ts':
          "import { app } from '../../services/serving/app.ts';\nexport const x = app;\n",
      }),
    ).toEqual(['shared-not-to-services']);
  });

  it('fail on one service importing the other', () => {
    expect(
      violations({
        'services/serving/app.ts': "import { t } from '../trainer/t.ts';\nexport const app = t;\n",
        'services/trainer/t.ts': 'export const t = 1;\n',
      }),
    ).toEqual(['serving-not-to-trainer']);
    expect(
      violations({
        'services/serving/app.ts': 'export const app = 1;\n',
        'services/trainer/t.ts': "import { app } from '../serving/app.ts';\nexport const t = app;\n",
      }),
    ).toEqual(['trainer-not-to-serving']);
  });

  it('fail on shared/model importing a driver, an adapter or an I/O module', () => {
    expect(
      violations({ 'shared/model/mf.ts': "import { Redis } from 'ioredis';\nexport const r = Redis;\n" }),
    ).toEqual(['model-is-pure']);
    expect(
      violations({
        'shared/model/mf.ts': "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
      }),
    ).toEqual(['model-is-pure']);
    expect(
      violations({
        'shared/adapters/a.ts': 'export const a = 1;\n',
        'shared/model/mf.ts': "import { a } from '../adapters/a.ts';\nexport const r = a;\n",
      }),
    ).toEqual(['model-is-pure']);
  });

  it('fail on an import cycle', () => {
    expect(
      violations({
        'shared/model/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
        'shared/model/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
      }),
    ).toEqual(['no-circular']);
  });

  it('fail on serving stages importing against the pipeline: index -> ranking, ranking -> http, process -> index', () => {
    expect(
      violations({
        'services/serving/ranking/blend.ts': 'export const blend = 1;\n',
        'services/serving/http/routes.ts': 'export const routes = 1;\n',
        'services/serving/index/items.ts': 'export const items = 1;\n',
        'services/serving/index/sync.ts':
          "import { blend } from '../ranking/blend.ts';\nexport const s = blend;\n",
      }),
    ).toEqual(['serving-index-not-to-ranking']);
    expect(
      violations({
        'services/serving/http/routes.ts': 'export const routes = 1;\n',
        'services/serving/ranking/rank.ts':
          "import { routes } from '../http/routes.ts';\nexport const r = routes;\n",
      }),
    ).toEqual(['serving-ranking-not-to-http']);
    expect(
      violations({
        'services/serving/index/items.ts': 'export const items = 1;\n',
        'services/serving/process/metrics.ts':
          "import { items } from '../index/items.ts';\nexport const m = items;\n",
      }),
    ).toEqual(['serving-process-alone']);
    // The intended direction passes: ranking -> index, ranking -> process, http -> ranking.
    expect(
      violations({
        'services/serving/index/items.ts': 'export const items = 1;\n',
        'services/serving/process/pacer.ts': 'export const pacer = 1;\n',
        'services/serving/ranking/rank.ts':
          "import { items } from '../index/items.ts';\nimport { pacer } from '../process/pacer.ts';\nexport const r = items + pacer;\n",
        'services/serving/http/routes.ts':
          "import { r } from '../ranking/rank.ts';\nexport const routes = r;\n",
      }),
    ).toEqual([]);
  });
});
