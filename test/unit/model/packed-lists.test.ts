import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PackedLists } from '../../../shared/model/packed-lists.ts';

function read(lists: PackedLists, slot: number): { ids: number[]; weights: number[] } {
  const start = lists.start(slot);
  const ids: number[] = [];
  const weights: number[] = [];
  for (let k = 0; k < lists.length(slot); k++) {
    ids.push(lists.ids[start + k] as number);
    weights.push(lists.weights[start + k] as number);
  }
  return { ids, weights };
}

describe('PackedLists', () => {
  it('keeps every slot equal to the last list set for it, through growth, shrinking and compaction', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            slot: fc.integer({ min: 0, max: 300 }),
            ids: fc.array(fc.integer({ min: 0, max: 1_000 }), { maxLength: 12 }),
          }),
          { maxLength: 400 },
        ),
        (writes) => {
          const lists = new PackedLists();
          const expected = new Map<number, number[]>();
          for (const { slot, ids } of writes) {
            // Weights derived from the ids: exactly representable as float32.
            lists.set(
              slot,
              ids,
              ids.map((id) => id / 4),
            );
            expected.set(slot, ids);
          }
          const slots = writes.length === 0 ? 0 : Math.max(...writes.map((w) => w.slot)) + 1;
          expect(lists.slots).toBe(slots);
          for (let slot = 0; slot < slots + 2; slot++) {
            const ids = expected.get(slot) ?? [];
            expect(read(lists, slot)).toEqual({ ids, weights: ids.map((id) => id / 4) });
            for (const id of ids) expect(lists.indexOf(slot, id)).toBe(ids.indexOf(id));
            expect(lists.indexOf(slot, 5_000)).toBe(-1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reuses the space of a list that shrinks and reclaims that of moved lists when full', () => {
    const lists = new PackedLists();
    for (let slot = 0; slot < 100; slot++) lists.set(slot, [slot, slot + 1], [1, 2]);
    const capacity = lists.ids.length;
    // Growing every list moves each to the end: the arrays fill, and a compaction keeps them
    // from growing past twice what is live.
    for (let round = 0; round < 20; round++)
      for (let slot = 0; slot < 100; slot++) {
        lists.set(slot, [slot], [1]);
        lists.set(slot, [slot, 7, 8], [1, 2, 3]);
      }
    expect(lists.ids.length).toBeLessThanOrEqual(Math.max(capacity, 2 * (300 + 3)));
    expect(read(lists, 42)).toEqual({ ids: [42, 7, 8], weights: [1, 2, 3] });
    expect(() => lists.set(0, [1, 2], [1])).toThrow(RangeError);
  });
});
