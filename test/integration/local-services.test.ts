import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../scripts/local-services.ts';

const root = resolve(import.meta.dirname, '../..');
const dir = join(mkdtempSync(join(tmpdir(), 'recsys-svc-')), 'pair');

function services(command: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'services.ts'), command], {
    env: { ...process.env, RECSYS_SERVICES_DIR: dir },
    encoding: 'utf8',
    timeout: 170_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

afterAll(() => {
  services('down');
  rmSync(resolve(dir, '..'), { recursive: true, force: true });
});

describe('npm run services:up / services:down', () => {
  it('is idempotent: a second up keeps the same pair, down stops both', { timeout: 180_000 }, () => {
    const first = services('up');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^KAFKA_BROKERS=127\.0\.0\.1:\d+\nREDIS_URL=redis:\/\/127\.0\.0\.1:\d+\n$/);
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as {
      redis: { pid: number };
      kafka: { pid: number };
    };
    expect(isAlive(state.redis.pid) && isAlive(state.kafka.pid)).toBe(true);

    const second = services('up');
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toContain('already running');
    const again = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as typeof state;
    expect(again).toEqual(state);

    const down = services('down');
    expect(down.status, down.stderr).toBe(0);
    expect(isAlive(state.redis.pid)).toBe(false);
    expect(isAlive(state.kafka.pid)).toBe(false);
    expect(services('status').status).toBe(1);
  });
});
