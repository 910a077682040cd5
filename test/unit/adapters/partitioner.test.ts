import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../../../shared/adapters/memory/index.ts';

describe('Kafka-compatible partitioner', () => {
  it('matches the murmur2 values of Apache Kafka (UtilsTest.testMurmur2)', () => {
    // Expected values copied from Kafka's own test of org.apache.kafka.common.utils.Utils.murmur2.
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [input, expected] of cases) expect(murmur2(Buffer.from(input)), input).toBe(expected);
  });

  it('keeps a key on one partition within range', () => {
    for (let i = 0; i < 1000; i++) {
      const p = partitionForKey(`user-${i}`, 7);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(7);
      expect(partitionForKey(`user-${i}`, 7)).toBe(p);
    }
  });
});
