import { describe, expect, it } from 'vitest';
import { BackgroundPacer, type PacerClock } from '../../../services/serving/process/pacer.ts';

/** A clock that moves only when a job works, and a scheduler the test runs by hand. */
function manualClock() {
  let now = 0;
  const queue: { fn: () => void; at: number }[] = [];
  const clock: PacerClock = {
    now: () => now,
    schedule: (fn, delayMs) => queue.push({ fn, at: now + delayMs }),
  };
  return {
    clock,
    work: (ms: number) => (now += ms),
    /** Runs the next scheduled slice (time jumps to it); false when nothing is scheduled. */
    step(): boolean {
      const next = queue.shift();
      if (next === undefined) return false;
      now = Math.max(now, next.at);
      next.fn();
      return true;
    },
    get now() {
      return now;
    },
  };
}

describe('BackgroundPacer', () => {
  it('gives all its jobs together a fifth of the time, in turns', () => {
    const m = manualClock();
    const pacer = new BackgroundPacer(m.clock);
    const order: string[] = [];
    let busy = 0;
    // Each call works 0.5 ms and always has more to do.
    const job = (name: string) => () => {
      order.push(name);
      m.work(0.5);
      busy += 0.5;
      return true;
    };
    pacer.add(job('a'));
    pacer.add(job('b'));
    m.step(); // the first slice: 2 ms of work (4 calls, taking turns), then a pause of 8 ms
    expect(order).toEqual(['a', 'b', 'a', 'b']);
    for (let i = 0; i < 99; i++) m.step();
    // 100 slices of 2 ms, each followed by 8 ms: work / wall time = 1/5 (two self-paced jobs took 2/5).
    expect(busy).toBe(200);
    expect(busy / (m.now + 8)).toBeCloseTo(0.2, 10);
    expect(order.filter((n) => n === 'a').length).toBe(order.filter((n) => n === 'b').length);
  });

  it('drops a job once it has nothing waiting, runs an added job once per turn, and stops when idle', () => {
    const m = manualClock();
    const pacer = new BackgroundPacer(m.clock);
    let left = 3;
    let calls = 0;
    const job = () => {
      calls++;
      return --left > 0;
    };
    pacer.add(job);
    pacer.add(job); // the same job: scheduled once
    expect(pacer.pending).toBe(1);
    while (m.step());
    expect(calls).toBe(3);
    expect(pacer.pending).toBe(0);
    expect(m.step()).toBe(false); // idle: nothing scheduled any more
    // Added again later: runs again.
    left = 1;
    pacer.add(job);
    while (m.step());
    expect(calls).toBe(4);
    expect(pacer.pending).toBe(0);
  });
});
