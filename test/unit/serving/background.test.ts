import { describe, expect, it } from 'vitest';
import { BackgroundPacer } from '../../../services/serving/background.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A job that keeps the CPU for `ms` per call and always has more to do. */
function busyJob(ms: number, log: { calls: number; ms: number }) {
  return () => {
    const start = performance.now();
    while (performance.now() - start < ms);
    log.calls++;
    log.ms += performance.now() - start;
    return true;
  };
}

describe('BackgroundPacer', () => {
  it('gives all its jobs together at most about a fifth of the time, taking turns', async () => {
    const pacer = new BackgroundPacer();
    const a = { calls: 0, ms: 0 };
    const b = { calls: 0, ms: 0 };
    const started = performance.now();
    pacer.add(busyJob(0.5, a));
    pacer.add(busyJob(0.5, b));
    await sleep(600);
    const elapsed = performance.now() - started;
    // Two jobs pacing themselves took two fifths; one pacer keeps both to one (plus timer slack).
    expect((a.ms + b.ms) / elapsed).toBeLessThan(0.26);
    expect(a.calls).toBeGreaterThan(0);
    expect(b.calls).toBeGreaterThan(0);
    expect(Math.abs(a.calls - b.calls)).toBeLessThanOrEqual(Math.max(a.calls, b.calls) / 2);
  });

  it('drops a job once it has nothing waiting, runs an added job once per turn, and stops when idle', async () => {
    const pacer = new BackgroundPacer();
    let left = 3;
    let calls = 0;
    const job = () => {
      calls++;
      return --left > 0;
    };
    pacer.add(job);
    pacer.add(job); // the same job: scheduled once
    expect(pacer.pending).toBe(1);
    await sleep(50);
    expect(calls).toBe(3);
    expect(pacer.pending).toBe(0);
    // Added again later: runs again.
    left = 1;
    pacer.add(job);
    await sleep(20);
    expect(calls).toBe(4);
    expect(pacer.pending).toBe(0);
  });
});
