import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../../shared/adapters/memory/data-lock.ts';
import { isRecsysError } from '../../../shared/errors/index.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-lock-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('lockDataDir', () => {
  it('takes the folder for this process, re-entrantly', () => {
    const dir = tempDir();
    lockDataDir(dir);
    lockDataDir(dir);
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(String(process.pid));
  });

  it('refuses a folder a live process holds, with DATA_DIR_IN_USE naming it', async () => {
    const dir = tempDir();
    const other = spawn('sleep', ['30']);
    try {
      writeFileSync(join(dir, '.lock'), String(other.pid));
      let caught: unknown;
      try {
        lockDataDir(dir);
      } catch (error) {
        caught = error;
      }
      expect(isRecsysError(caught) && caught.code).toBe('DATA_DIR_IN_USE');
      expect((caught as Error).message).toContain(`process ${other.pid}`);
      expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(String(other.pid));
    } finally {
      other.kill();
    }
  });

  it('takes over the lock of a process that died', () => {
    const dir = tempDir();
    const gone = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    writeFileSync(join(dir, '.lock'), gone);
    lockDataDir(dir);
    expect(existsSync(join(dir, '.lock'))).toBe(true);
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(String(process.pid));
  });
});
