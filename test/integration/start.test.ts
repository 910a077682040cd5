import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../shared/config/index.ts';
import { demoWorld } from '../../shared/demo/world.ts';
import { StartProcess } from '../support/start-process.ts';
import { waitUntil } from '../support/wait.ts';

const root = resolve(import.meta.dirname, '../..');

async function recommend(url: string, userId: string, device: string, k = 10): Promise<string[]> {
  const res = await fetch(`${url}/v1/users/${userId}/recommendations?k=${k}&device=${device}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { items: { itemId: string }[] };
  return body.items.map((item) => item.itemId);
}

const genreOf = (itemId: string) => itemId.replace(/-\d+$/, '');

/**
 * The README's first command: one process, nothing but Node, a demo that has learned the planted
 * tastes, reacts to clicks within a second, and resumes from its data folder after a restart.
 */
describe('recsys start (all-in-one, embedded)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'recsys-start-'));
  const running: StartProcess[] = [];
  afterAll(async () => {
    for (const p of running) await p.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('seeds the demo on first run, learns the planted tastes, reacts to clicks, resumes after a restart', async () => {
    const first = new StartProcess(dataDir);
    running.push(first);
    const url = await first.demoLearned();
    expect(first.output).toMatch(/first run, seeding the demo: 200 items, 400 users/);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // Known users get their own genres: the planted tastes (chance would be 2 genres of 8).
    const world = demoWorld({ now: Date.now(), seed: defaultConfig().model.seed });
    let own = 0;
    let total = 0;
    for (const persona of world.personas.slice(0, 30)) {
      const items = await recommend(url, persona.userId, 'mobile');
      own += items.filter((id) =>
        [persona.taste.mobile, persona.taste.desktop].includes(genreOf(id) as never),
      ).length;
      total += items.length;
    }
    expect(own / total).toBeGreaterThan(0.5);

    // A new user clicks three comedies: comedies lead the list within seconds, the clicked ones gone.
    const clicked = ['comedy-002', 'comedy-006', 'comedy-011'];
    for (const itemId of clicked) {
      const res = await fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'newcomer', itemId, type: 'click', context: { device: 'mobile' } }),
      });
      expect(res.status).toBe(202);
    }
    let top: string[] = [];
    await waitUntil(
      async () => {
        top = await recommend(url, 'newcomer', 'mobile', 5);
        return top.filter((id) => genreOf(id) === 'comedy').length >= 4;
      },
      'comedies to lead the newcomer list',
      5_000,
      100,
    );
    expect(top.some((id) => clicked.includes(id))).toBe(false);

    // A second writer on the same data folder is refused with a clear message; read-only
    // commands work next to the running process.
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(root, 'bin/recsys.mjs'), ...args], {
        env: { ...process.env, KAFKA_BROKERS: '', REDIS_URL: '', RECSYS_DATA_DIR: dataDir },
        encoding: 'utf8',
      });
    const publish = cli('publish', '-u', 'other', '-i', 'comedy-001');
    expect(publish.status).toBe(1);
    expect(publish.stderr).toMatch(/in use by recsys process \d+.*--api.*\[DATA_DIR_IN_USE\]/s);
    // It names the running API's own address (a free port here, not the default 8080).
    expect(publish.stderr).toContain(`recsys publish --api ${url})`);
    const viaApi = cli('publish', '--api', url, '-u', 'newcomer', '-i', 'comedy-012');
    expect(viaApi.status).toBe(0);
    const inspect = cli('inspect', 'item', 'comedy-001', '--json');
    expect(inspect.status).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ known: true, record: { categories: ['comedy'] } });

    const versionOf = async (base: string) => {
      const res = await fetch(`${base}/v1/users/newcomer/recommendations?k=5&device=mobile`);
      const { modelVersion } = (await res.json()) as { modelVersion: string };
      return Number(/^mf\.(\d+)/.exec(modelVersion)?.[1]);
    };
    const versionBefore = await versionOf(url);
    expect(versionBefore).toBeGreaterThan(0);
    expect(await first.stop()).toBe(0);

    // Restart on the same data folder: no second seeding, the newcomer's history is still there.
    const second = new StartProcess(dataDir);
    running.push(second);
    await waitUntil(() => second.url !== undefined, 'the restarted API', 60_000);
    // The first answer after the restart comes from the whole stored state: the same model
    // version or a later one (never back to a count started again from 0), the same tastes.
    expect(await versionOf(second.url as string)).toBeGreaterThanOrEqual(versionBefore);
    const again = await recommend(second.url as string, 'newcomer', 'mobile', 5);
    expect(again.filter((id) => genreOf(id) === 'comedy').length).toBeGreaterThanOrEqual(4);
    expect(again.some((id) => clicked.includes(id))).toBe(false);
    expect(second.output).not.toMatch(/seeding the demo/);
    expect(await second.stop()).toBe(0);
  }, 240_000);
});
