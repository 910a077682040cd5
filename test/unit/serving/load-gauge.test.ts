import type { EventLoopUtilization } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { LoadGauge } from '../../../services/serving/process/load-gauge.ts';

/** A fake eventLoopUtilization: cumulative active and idle milliseconds the test advances. */
function fakeLoop() {
  const totals = { active: 0, idle: 0 };
  const sample = (last?: EventLoopUtilization): EventLoopUtilization => {
    if (last === undefined) return { active: totals.active, idle: totals.idle, utilization: 0 };
    const active = totals.active - last.active;
    const idle = totals.idle - last.idle;
    return { active, idle, utilization: active + idle === 0 ? 0 : active / (active + idle) };
  };
  return {
    sample,
    run(active: number, idle: number) {
      totals.active += active;
      totals.idle += idle;
    },
  };
}

describe('LoadGauge', () => {
  it('is busy while the last interval ran code at least the threshold share of the time', () => {
    const loop = fakeLoop();
    const gauge = new LoadGauge({ sample: loop.sample, timer: false, threshold: 0.8 });
    expect(gauge.busy).toBe(false);
    loop.run(90, 10);
    gauge.tick();
    expect(gauge.utilization).toBeCloseTo(0.9, 10);
    expect(gauge.busy).toBe(true);
    // Only the latest interval counts: a quiet one after a busy one is not busy.
    loop.run(30, 70);
    gauge.tick();
    expect(gauge.utilization).toBeCloseTo(0.3, 10);
    expect(gauge.busy).toBe(false);
    loop.run(80, 20);
    gauge.tick();
    expect(gauge.busy).toBe(true);
    gauge.close();
  });

  it("reads Node's own event-loop utilisation by default", async () => {
    const gauge = new LoadGauge({ timer: false });
    const until = performance.now() + 30;
    while (performance.now() < until); // a busy loop: the event loop runs code all along
    gauge.tick();
    expect(gauge.utilization).toBeGreaterThan(0.5);
    expect(gauge.busy).toBe(gauge.utilization >= 0.8);
    gauge.close();
  });
});
