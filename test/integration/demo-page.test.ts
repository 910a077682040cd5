import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoWorld } from '../../shared/demo/world.ts';
import { chromiumPath } from '../support/browser.ts';
import { StartProcess } from '../support/start-process.ts';

const output = resolve(import.meta.dirname, '../../test-results');

interface Shown {
  readonly itemId: string;
  readonly category: string;
}

/** The page's document, typed just enough for the checks below (the project has no DOM types). */
interface BrowserDocument {
  querySelectorAll(selector: string): { readonly length: number };
  querySelector(selector: string): { readonly textContent: string | null } | null;
}
// Functions passed to waitForFunction are serialised and run in the page (whose CSP forbids
// string evaluation): they reach the page's document through globalThis, with no closures.
type InPage = { document: BrowserDocument };

async function shown(page: Page): Promise<Shown[]> {
  return page.$$eval('#recommendations li', (items) =>
    items.map((li) => ({
      itemId: li.getAttribute('data-item-id') ?? '',
      category: li.getAttribute('data-category') ?? '',
    })),
  );
}

/**
 * The demo page in a real headless Chromium against `recsys start`: a new user clicks items of
 * one category through the page; that category rises in the list and the clicked items leave it.
 */
describe('demo page in a browser', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'recsys-demo-page-'));
  let app: StartProcess;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    const executablePath = chromiumPath();
    app = new StartProcess(dataDir);
    url = await app.demoLearned();
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("changes a planted user's list with the device: their mobile genre on mobile, their desktop genre on desktop", async () => {
    // The world `recsys start` seeds (seed 42, the default model seed): tastes do not depend on time.
    const persona = demoWorld({ now: Date.now(), seed: 42 }).personas[0];
    if (persona === undefined) throw new Error('the demo world has no personas');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // The share of a genre in the list shown (0 until ten items are shown).
    const share = async (genre: string) => {
      const list = await shown(page);
      return list.length < 10 ? 0 : list.filter((s) => s.category === genre).length / list.length;
    };
    await page.goto(`${url}/?user=${persona.userId}&device=mobile`);
    await page.waitForSelector('#recommendations li', { timeout: 10_000 });
    await page.selectOption('#hour', '20');
    await expect.poll(() => share(persona.taste.mobile), { timeout: 10_000 }).toBeGreaterThanOrEqual(0.5);
    await page.selectOption('#device', 'desktop');
    await page.selectOption('#hour', '14');
    await expect.poll(() => share(persona.taste.desktop), { timeout: 10_000 }).toBeGreaterThanOrEqual(0.5);
    expect(await share(persona.taste.mobile)).toBeLessThanOrEqual(0.3);
    await page.close();
  }, 60_000);

  it('shows recommendations with sources, learns from clicks within seconds, shows live metrics', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.goto(`${url}/?user=browser-newcomer&device=mobile`);
    await page.waitForSelector('#recommendations li', { timeout: 10_000 });
    // Accessible basics: labelled controls, a polite live region, buttons with names.
    expect(await page.getAttribute('#recommendations', 'aria-live')).toBe('polite');
    for (const id of ['user', 'device', 'hour'])
      expect(await page.locator(`label[for="${id}"]`).count()).toBe(1);
    expect(await page.getAttribute('#recommendations li button', 'aria-label')).toMatch(
      /^Click .+ recommended by /,
    );

    const before = await shown(page);
    expect(before.length).toBe(10);
    expect(await page.textContent('#recommendations li .source')).toMatch(
      /^(popular|content|mf|neumf|session)$/,
    );
    // The category to like: the one least present in the new user's (popularity) list.
    const counts = new Map<string, number>();
    for (const s of before) counts.set(s.category, (counts.get(s.category) ?? 0) + 1);
    const liked = [...counts].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] as string;
    const initial = counts.get(liked) ?? 0;

    const clicked: string[] = [];
    for (let i = 0; i < 3; i++) {
      const target = (await shown(page)).find((s) => s.category === liked && !clicked.includes(s.itemId));
      if (target === undefined) break;
      clicked.push(target.itemId);
      await page.click(`#recommendations li[data-item-id="${target.itemId}"] button`);
      await page.waitForSelector(`#recommendations li[data-item-id="${target.itemId}"]`, {
        state: 'detached',
        timeout: 5_000,
      });
    }
    expect(clicked.length).toBeGreaterThanOrEqual(2);
    const wanted = Math.max(initial + 3, 6);
    await page.waitForFunction(
      ([category, min]) =>
        (globalThis as unknown as InPage).document.querySelectorAll(
          `#recommendations li[data-category="${category}"]`,
        ).length >= min,
      [liked, wanted] as const,
      { timeout: 5_000 },
    );
    const after = await shown(page);
    expect(after.filter((s) => s.category === liked).length).toBeGreaterThan(initial);
    expect(after.some((s) => clicked.includes(s.itemId))).toBe(false);
    expect(await page.textContent('#clicks')).toBe(String(clicked.length));

    // The live panel reads /metrics: prequential HR@10 per model, events/s after two polls.
    await page.waitForFunction(
      () =>
        /mf \d\.\d\d/.test(
          (globalThis as unknown as InPage).document.querySelector('#hit-rate')?.textContent ?? '',
        ),
      null,
      {
        timeout: 10_000,
      },
    );
    await page.waitForFunction(
      () =>
        /^\d+\.\d$/.test(
          (globalThis as unknown as InPage).document.querySelector('#events-rate')?.textContent ?? '',
        ),
      null,
      { timeout: 10_000 },
    );
    mkdirSync(output, { recursive: true });
    await page.screenshot({ path: join(output, 'demo-page.png'), fullPage: true });
    expect(errors, errors.join('\n')).toEqual([]);
  }, 60_000);
});
