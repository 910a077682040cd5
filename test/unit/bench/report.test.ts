import { describe, expect, it } from 'vitest';
import { formatResults, passed } from '../../../bench/report.ts';
import { zipfSampler } from '../../../bench/workload.ts';
import { Random } from '../../../shared/model/random.ts';

describe('benchmark report', () => {
  it('judges each figure against its target and prints PASS or FAIL', () => {
    const fast = { name: 'a', value: 2_000_000, unit: '/s', target: { op: '>=', value: 1_000_000 } } as const;
    const slow = { name: 'b', value: 3.5, unit: 'ms', target: { op: '<=', value: 2 } } as const;
    const free = { name: 'c', value: 10, unit: '/s' } as const;
    expect(passed(fast)).toBe(true);
    expect(passed(slow)).toBe(false);
    expect(passed(free)).toBeUndefined();
    const text = formatResults([fast, slow, free]);
    expect(text).toMatch(/a\s+2,000,000 \/s\s+target >= 1,000,000\s+PASS/);
    expect(text).toMatch(/b\s+3\.500 ms\s+target <= 2\.000\s+FAIL/);
    expect(text).toMatch(/c\s+10\.000 \/s\s+no target/);
  });

  it('draws Zipf ids: rank 1 about twice as often as rank 2, spread over the id space', () => {
    const draw = zipfSampler(1_000, 1, new Random(1));
    const counts = new Map<number, number>();
    for (let k = 0; k < 200_000; k++) {
      const id = draw();
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    const ratio = (sorted[0]![1] as number) / (sorted[1]![1] as number);
    expect(ratio).toBeGreaterThan(1.8);
    expect(ratio).toBeLessThan(2.2);
    expect(sorted[0]![0]).not.toBe(0);
  });
});
