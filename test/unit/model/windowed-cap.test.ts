import { describe, expect, it } from 'vitest';
import { WindowedCap } from '../../../shared/model/windowed-cap.ts';

const MINUTE = 60_000;

describe('WindowedCap', () => {
  it('lets `limit` events of a key through per window and refuses the rest until the next window', () => {
    const cap = new WindowedCap(3);
    const t = 10 * MINUTE + 5_000;
    expect([1, 2, 3, 4, 5].map(() => cap.take('flood', t))).toEqual([true, true, true, false, false]);
    expect(cap.take('other', t)).toBe(true); // other keys keep their own count
    expect(cap.retryAfterSeconds(t)).toBe(55); // the window ends at 11:00
    expect(cap.take('flood', t + 54_999)).toBe(false);
    expect(cap.take('flood', 11 * MINUTE)).toBe(true); // a new window
    // An event stamped before the current window counts in the current one.
    expect(cap.take('flood', t)).toBe(true);
    expect(cap.take('flood', t)).toBe(true);
    expect(cap.take('flood', t)).toBe(false);
  });

  it('does not forget a flooding key when events arrive under 200,000 other keys in the window', () => {
    const cap = new WindowedCap(600);
    const t = 5 * MINUTE;
    let taken = 0;
    for (let i = 0; i < 700; i++) if (cap.take('flooder', t)) taken++;
    expect(taken).toBe(600);
    for (let i = 0; i < 200_000; i++) cap.take(`user-${i}`, t + 1);
    // A map of windows was cleared at 100,000 keys, and the flooder got 600 more in.
    let after = 0;
    for (let i = 0; i < 600; i++) if (cap.take('flooder', t + 2)) after++;
    expect(after).toBe(0);
    // The sketch reads high by a few events at most here: a key that sent nothing gets its 600.
    let fresh = 0;
    for (let i = 0; i < 600; i++) if (cap.take('newcomer', t + 3)) fresh++;
    expect(fresh).toBeGreaterThanOrEqual(590);
  });

  it('forgets every count on reset', () => {
    const cap = new WindowedCap(1);
    expect(cap.take('u', 0)).toBe(true);
    expect(cap.take('u', 0)).toBe(false);
    cap.reset();
    expect(cap.take('u', 0)).toBe(true);
  });
});
