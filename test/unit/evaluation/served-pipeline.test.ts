import { describe, expect, it } from 'vitest';
import { demoContextShares, evaluateServed } from '../../../cli/served-eval.ts';
import { loadConfig } from '../../../shared/config/index.ts';
import { demoWorld } from '../../../shared/demo/world.ts';

/** The demo world as `recsys start` seeds it: one genre on mobile, another on desktop, per user. */
const world = demoWorld({ now: Date.UTC(2026, 0, 15), seed: 42 });
const data = { name: 'demo', events: world.events, items: world.items, users: world.users };

const config = (context: boolean) =>
  loadConfig({
    env: {},
    overrides: {
      trainer: { models: ['mf', 'session'], metricsPort: 0, flushMs: 0 },
      model: { mf: { context } },
    },
  });

describe('the served pipeline on the demo world', () => {
  it('serves each device its own genre once the history is learnt, and loses it without context', async () => {
    const runs = [];
    for (const context of [true, false]) {
      // Blocks of up to an hour of the world's stream (~50 events): the bars are about what was
      // learnt, not how fast; live freshness (1 s) makes one block per event.
      const result = await evaluateServed({
        config: config(context),
        data,
        context,
        sample: 0.1,
        freshnessMs: 3_600_000,
      });
      try {
        runs.push({ result, shares: await demoContextShares(world, result.served) });
      } finally {
        await result.served.close();
      }
    }
    const [withContext, without] = runs as [(typeof runs)[0], (typeof runs)[0]];
    for (const device of ['mobile', 'desktop'] as const) {
      expect(withContext.shares[device].own).toBeGreaterThanOrEqual(0.7);
      expect(withContext.shares[device].other).toBeLessThanOrEqual(0.15);
      // Without context one list serves both devices: the two genres share it.
      expect(without.shares[device].own).toBeLessThan(0.55);
    }
    expect(withContext.result.metrics.hr).toBeGreaterThan(without.result.metrics.hr);
    // Every served item is counted under one source.
    const total = Object.values(withContext.result.sources).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 9);
    expect(withContext.result.evaluated).toBeGreaterThan(0);
  }, 120_000);
});
