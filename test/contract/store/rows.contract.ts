import { describe, expect, it } from 'vitest';
import { isRecsysError } from '../../../shared/errors/index.ts';
import { TRANSITIONS_STREAM } from '../../../shared/ports/index.ts';
import { storeUnderTest, vec, value, delta, type ModelStoreFixture } from './fixture.ts';

/** The behaviour every adapter's RowStore part must have (run against memory and Redis). */
export function describeRowStoreContract(name: string, open: () => Promise<ModelStoreFixture>): void {
  describe(`RowStore contract: ${name}`, () => {
    const t = storeUnderTest(open);

    it('reads a missing row as undefined, not an error', async () => {
      expect(await t.store.getRows('mf:user', ['nobody'])).toEqual([undefined]);
    });

    it('round-trips rows exactly and counts versions per write', async () => {
      const v = vec(0.1, -2.5, 3.25e-7, 1e30);
      await t.store.putRows('mf:user', [{ id: 'u1', value: value(v, -0.125, 7, 1_700_000_000_123) }]);
      const [first] = await t.store.getRows('mf:user', ['u1']);
      expect(first).toBeDefined();
      expect(Array.from(first!.vector)).toEqual(Array.from(v));
      expect(first).toMatchObject({ bias: -0.125, count: 7, version: 1, updatedAt: 1_700_000_000_123 });
      await t.store.putRows('mf:user', [{ id: 'u1', value: value(vec(1, 2, 3, 4), 0, 8, 5) }]);
      const [second] = await t.store.getRows('mf:user', ['u1']);
      expect(second?.version).toBe(2);
      expect(Array.from(second!.vector)).toEqual([1, 2, 3, 4]);
    });

    it('keeps tables apart and answers in the order asked, with gaps for missing rows', async () => {
      await t.store.putRows('mf:user', [
        { id: 'a', value: value(vec(1)) },
        { id: 'c', value: value(vec(3)) },
      ]);
      await t.store.putRows('mf:item', [{ id: 'a', value: value(vec(9)) }]);
      const rows = await t.store.getRows('mf:user', ['c', 'b', 'a']);
      expect(rows.map((r) => (r === undefined ? undefined : r.vector[0]))).toEqual([3, undefined, 1]);
      expect((await t.store.getRows('mf:item', ['a']))[0]?.vector[0]).toBe(9);
    });

    it('does not let a caller mutate stored rows through returned or given arrays', async () => {
      const v = vec(1, 1);
      await t.store.putRows('t', [{ id: 'x', value: value(v) }]);
      v[0] = 99;
      const [read] = await t.store.getRows('t', ['x']);
      read!.vector[1] = 42;
      const [again] = await t.store.getRows('t', ['x']);
      expect(Array.from(again!.vector)).toEqual([1, 1]);
    });

    it('creates a missing row from its init vector plus the delta, then adds further deltas', async () => {
      await t.store.addDeltas('mf:item', [
        { id: 'i1', value: delta(vec(0.5, 0.5), { init: vec(1, 2), bias: 0.25, updatedAt: 10 }) },
        { id: 'i2', value: delta(vec(1, -1), { updatedAt: 20 }) },
      ]);
      await t.store.addDeltas('mf:item', [
        { id: 'i1', value: delta(vec(1, 1), { bias: 0.5, updatedAt: 5 }) },
      ]);
      const [i1, i2] = await t.store.getRows('mf:item', ['i1', 'i2']);
      expect(Array.from(i1!.vector)).toEqual([2.5, 3.5]);
      expect(i1).toMatchObject({ bias: 0.75, count: 2, version: 2, updatedAt: 10 });
      expect(Array.from(i2!.vector)).toEqual([1, -1]);
      expect(i2).toMatchObject({ count: 1, version: 1, updatedAt: 20 });
    });

    it('sums concurrent delta adds from two clients exactly', async () => {
      const other = await t.fixture.second();
      t.extra.push(other);
      const dim = 16;
      const rounds = 100;
      const expected = new Float64Array(dim);
      const deltasFor = (client: number, round: number): Float32Array => {
        // Multiples of 1/64 with small magnitude: every partial sum is exact in float32, so the
        // result cannot depend on the order in which the two clients' deltas land.
        const v = new Float32Array(dim);
        for (let d = 0; d < dim; d++) v[d] = (((client * 31 + round * 7 + d * 3) % 17) - 8) / 64;
        return v;
      };
      const writes: Promise<void>[] = [];
      for (let round = 0; round < rounds; round++) {
        for (const [client, target] of [
          [0, t.store],
          [1, other],
        ] as const) {
          const v = deltasFor(client, round);
          for (let d = 0; d < dim; d++) expected[d] = (expected[d] as number) + (v[d] as number);
          writes.push(target.addDeltas('shared', [{ id: 'hot', value: delta(v, { bias: 1 }) }]));
        }
      }
      await Promise.all(writes);
      const [row] = await other.getRows('shared', ['hot']);
      expect(Array.from(row!.vector)).toEqual(Array.from(expected));
      expect(row).toMatchObject({ bias: 2 * rounds, count: 2 * rounds, version: 2 * rounds });
    });

    it('applies two writes to the same row within one batch in order', async () => {
      await t.store.commit({
        puts: [{ table: 't', rows: [{ id: 'r', value: value(vec(1, 1), 0, 1) }] }],
        deltas: [
          {
            table: 't',
            rows: [
              { id: 'r', value: delta(vec(1, 0)) },
              { id: 'r', value: delta(vec(0, 2)) },
            ],
          },
        ],
      });
      const [row] = await t.store.getRows('t', ['r']);
      expect(Array.from(row!.vector)).toEqual([2, 3]);
      expect(row).toMatchObject({ count: 3, version: 3 });
    });

    it('advances offsets by compare-and-set and fences a batch that does not start at the stored offset', async () => {
      const first = await t.store.commit({
        offsets: [{ scope: 'g', partition: 3, fromOffset: 0, nextOffset: 10 }],
        puts: [{ table: 't', rows: [{ id: 'a', value: value(vec(1)) }] }],
        counters: [{ name: 'events', field: 'u1', by: 10 }],
      });
      expect(first).toEqual({ status: 'committed' });
      expect(await t.store.getOffsets('g')).toEqual(new Map([[3, 10]]));

      // A replay of the same batch (a retried write, or a zombie consumer) changes nothing.
      const replay = await t.store.commit({
        offsets: [{ scope: 'g', partition: 3, fromOffset: 0, nextOffset: 10 }],
        puts: [{ table: 't', rows: [{ id: 'a', value: value(vec(2)) }] }],
        counters: [{ name: 'events', field: 'u1', by: 10 }],
      });
      expect(replay).toEqual({ status: 'fenced', partition: 3, storedOffset: 10 });
      // So does a batch that would skip records.
      const gap = await t.store.commit({
        offsets: [{ scope: 'g', partition: 3, fromOffset: 12, nextOffset: 20 }],
        puts: [{ table: 't', rows: [{ id: 'b', value: value(vec(3)) }] }],
      });
      expect(gap).toEqual({ status: 'fenced', partition: 3, storedOffset: 10 });
      const [a, b] = await t.store.getRows('t', ['a', 'b']);
      expect(a?.vector[0]).toBe(1);
      expect(b).toBeUndefined();
      expect(await t.store.getCounters('events', ['u1', 'u2'])).toEqual([10, 0]);

      const next = await t.store.commit({
        offsets: [{ scope: 'g', partition: 3, fromOffset: 10, nextOffset: 15 }],
        counters: [{ name: 'events', field: 'u1', by: 5 }],
      });
      expect(next.status).toBe('committed');
      expect(await t.store.getOffsets('g')).toEqual(new Map([[3, 15]]));
      expect(await t.store.getOffsets('other-scope')).toEqual(new Map());
      expect(await t.store.getCounters('events', ['u1'])).toEqual([15]);
    });

    it('checks several offset advances in order, chaining consecutive batches of one partition', async () => {
      await t.store.commit({ offsets: [{ scope: 'g', partition: 0, fromOffset: 0, nextOffset: 5 }] });
      const chained = await t.store.commit({
        offsets: [
          { scope: 'g', partition: 0, fromOffset: 5, nextOffset: 9 },
          { scope: 'g', partition: 1, fromOffset: 0, nextOffset: 3 },
          { scope: 'g', partition: 0, fromOffset: 9, nextOffset: 12 },
        ],
        counters: [{ name: 'c', field: 'n', by: 1 }],
      });
      expect(chained.status).toBe('committed');
      expect(await t.store.getOffsets('g')).toEqual(
        new Map([
          [0, 12],
          [1, 3],
        ]),
      );
      // One stale advance fences the whole write.
      const mixed = await t.store.commit({
        offsets: [
          { scope: 'g', partition: 1, fromOffset: 3, nextOffset: 4 },
          { scope: 'g', partition: 0, fromOffset: 9, nextOffset: 13 },
        ],
        counters: [{ name: 'c', field: 'n', by: 1 }],
      });
      expect(mixed).toEqual({ status: 'fenced', partition: 0, storedOffset: 12 });
      expect(await t.store.getCounters('c', ['n'])).toEqual([1]);
      expect((await t.store.getOffsets('g')).get(1)).toBe(3);
    });

    it('writes a batch with a NaN nowhere: rows, counters and offset stay as they were', async () => {
      await t.store.commit({ offsets: [{ scope: 'g', partition: 0, fromOffset: 0, nextOffset: 1 }] });
      const attempt = t.store.commit({
        offsets: [{ scope: 'g', partition: 0, fromOffset: 1, nextOffset: 2 }],
        puts: [
          { table: 't', rows: [{ id: 'ok', value: value(vec(1)) }] },
          { table: 't', rows: [{ id: 'bad', value: value(vec(Number.NaN)) }] },
        ],
        counters: [{ name: 'c', field: 'f', by: 1 }],
      });
      await expect(attempt).rejects.toSatisfy(
        (e: unknown) => isRecsysError(e) && e.code === 'NON_FINITE_VALUE',
      );
      expect(await t.store.getRows('t', ['ok', 'bad'])).toEqual([undefined, undefined]);
      expect(await t.store.getCounters('c', ['f'])).toEqual([0]);
      expect(await t.store.getOffsets('g')).toEqual(new Map([[0, 1]]));
      await expect(
        t.store.addDeltas('t', [{ id: 'x', value: delta(vec(Number.POSITIVE_INFINITY)) }]),
      ).rejects.toSatisfy((e: unknown) => isRecsysError(e) && e.code === 'NON_FINITE_VALUE');
    });

    it('rejects a batch whose delta does not match the row dimension, writing nothing', async () => {
      await t.store.putRows('t', [{ id: 'two', value: value(vec(1, 2)) }]);
      const attempt = t.store.commit({
        offsets: [{ scope: 'g', partition: 0, fromOffset: 0, nextOffset: 5 }],
        puts: [{ table: 't', rows: [{ id: 'new', value: value(vec(7)) }] }],
        deltas: [{ table: 't', rows: [{ id: 'two', value: delta(vec(1, 2, 3)) }] }],
      });
      await expect(attempt).rejects.toThrow(/dimension/i);
      expect(await t.store.getRows('t', ['new'])).toEqual([undefined]);
      expect(Array.from((await t.store.getRows('t', ['two']))[0]!.vector)).toEqual([1, 2]);
      expect(await t.store.getOffsets('g')).toEqual(new Map());
    });

    it('handles a batch of 10,000 rows with its offset in one commit', async () => {
      const dim = 32;
      const rows = Array.from({ length: 10_000 }, (_, i) => {
        const v = new Float32Array(dim);
        for (let d = 0; d < dim; d++) v[d] = Math.fround(Math.sin(i * dim + d));
        return { id: `user-${i}`, value: value(v, i / 10, i, 1_000 + i) };
      });
      const result = await t.store.commit({
        offsets: [{ scope: 'big', partition: 0, fromOffset: 0, nextOffset: 10_000 }],
        puts: [{ table: 'mf:user', rows }],
      });
      expect(result.status).toBe('committed');
      const read = await t.store.getRows(
        'mf:user',
        rows.map((r) => r.id),
      );
      expect(read).toHaveLength(10_000);
      for (const i of [0, 1, 4_999, 9_999]) {
        expect(Array.from(read[i]!.vector)).toEqual(Array.from(rows[i]!.value.vector));
        expect(read[i]).toMatchObject({ bias: i / 10, count: i, version: 1, updatedAt: 1_000 + i });
      }
      expect(read.every((r) => r !== undefined)).toBe(true);
      expect(await t.store.getOffsets('big')).toEqual(new Map([[0, 10_000]]));
    });

    it("adds float64 deltas exactly: a lone writer's stored row equals its local row bit for bit", async () => {
      const dim = 32;
      const rows = 200;
      const random = (k: number) =>
        Math.sin(k * 12.9898) * 43758.5453 - Math.floor(Math.sin(k * 12.9898) * 43758.5453) - 0.5;
      const base = Array.from({ length: rows }, (_, r) =>
        Float32Array.from({ length: dim }, (_, d) => random(r * dim + d)),
      );
      await t.store.putRows(
        'x',
        base.map((v, r) => ({ id: `r${r}`, value: value(v) })),
      );
      // Local training moves each float32 row; the writer sends current - base in float64.
      const local = base.map((v, r) =>
        Float32Array.from(v, (x, d) => x - 0.013 * random(r + d + 7) * x + 1e-7 * d),
      );
      await t.store.addDeltas(
        'x',
        local.map((v, r) => ({
          id: `r${r}`,
          value: delta(
            Float64Array.from(v, (x, d) => x - (base[r]![d] as number)),
            { count: 0 },
          ),
        })),
      );
      const stored = await t.store.getRows(
        'x',
        base.map((_, r) => `r${r}`),
      );
      stored.forEach((row, r) =>
        expect(Buffer.from(row!.vector.buffer).equals(Buffer.from(local[r]!.buffer))).toBe(true),
      );
    });

    it('writes the full row when the expected version still matches, else adds the delta', async () => {
      await t.store.putRows('o', [{ id: 'r', value: { ...value(vec(1, 2), 0.5), state: vec(1) } }]);
      // Version 1 stored; the writer read it and ends at [1.5, 2.25] (+ [0.5, 0.25]).
      const optimistic = delta(Float64Array.of(0.5, 0.25), {
        state: Float64Array.of(2),
        bias: 0.25,
        expectedVersion: 1,
        full: { vector: vec(1.5, 2.25), state: vec(3), bias: 0.75, count: 1 },
      });
      await t.store.addDeltas('o', [{ id: 'r', value: optimistic }]);
      const [written] = await t.store.getRows('o', ['r']);
      expect(Array.from(written!.vector)).toEqual([1.5, 2.25]);
      expect(Array.from(written!.state)).toEqual([3]);
      expect(written).toMatchObject({ bias: 0.75, count: 1, version: 2 });
      // Stale: someone wrote version 2 since; the same message now adds its delta.
      await t.store.addDeltas('o', [{ id: 'r', value: optimistic }]);
      const [added] = await t.store.getRows('o', ['r']);
      expect(Array.from(added!.vector)).toEqual([2, 2.5]);
      expect(Array.from(added!.state)).toEqual([5]);
      expect(added).toMatchObject({ bias: 1, count: 2, version: 3 });
      // Expected version 0: the row must not exist yet.
      await t.store.addDeltas('o', [
        {
          id: 'new',
          value: delta(Float64Array.of(9), {
            expectedVersion: 0,
            full: { vector: vec(9), bias: 0, count: 1 },
          }),
        },
      ]);
      expect(Array.from((await t.store.getRows('o', ['new']))[0]!.vector)).toEqual([9]);
    });

    it('keeps optimizer state with a row: puts overwrite it, deltas add to it', async () => {
      await t.store.putRows('s', [{ id: 'r', value: { ...value(vec(1, 2)), state: vec(0.5, 4) } }]);
      await t.store.addDeltas('s', [{ id: 'r', value: delta(vec(1, 1), { state: vec(0.25, 1) }) }]);
      const [row] = await t.store.getRows('s', ['r']);
      expect(Array.from(row!.vector)).toEqual([2, 3]);
      expect(Array.from(row!.state)).toEqual([0.75, 5]);
      await t.store.addDeltas('s', [{ id: 'fresh', value: delta(vec(1), { init: vec(2), state: vec(3) }) }]);
      const [fresh] = await t.store.getRows('s', ['fresh']);
      expect(Array.from(fresh!.vector)).toEqual([3]);
      expect(Array.from(fresh!.state)).toEqual([3]);
      await expect(t.store.addDeltas('s', [{ id: 'r', value: delta(vec(1, 1)) }])).rejects.toThrow(
        /dimension|values/i,
      );
    });

    it('registers items once, in first-seen order', async () => {
      await t.store.commit({ newItems: { registry: 'mf', ids: ['b', 'a', 'b'] } });
      await t.store.commit({ newItems: { registry: 'mf', ids: ['c', 'a'] } });
      await t.store.commit({ newItems: { registry: 'other', ids: ['z'] } });
      expect(await t.store.getItemRegistry('mf', 0)).toEqual(['b', 'a', 'c']);
      expect(await t.store.getItemRegistry('mf', 2)).toEqual(['c']);
      expect(await t.store.getItemRegistry('other', 0)).toEqual(['z']);
      expect(await t.store.getItemRegistry('none', 0)).toEqual([]);
    });

    it('writes no history, popularity, registry or change entry for a fenced batch', async () => {
      await t.store.commit({ offsets: [{ scope: 'g', partition: 0, fromOffset: 0, nextOffset: 5 }] });
      const fenced = await t.store.commit({
        offsets: [{ scope: 'g', partition: 0, fromOffset: 0, nextOffset: 5 }],
        history: [{ userId: 'u', items: ['i'] }],
        popularity: [{ segment: '*', itemId: 'i', by: 1 }],
        newItems: { registry: 'mf', ids: ['i'] },
        changedItems: { stream: 'mf', ids: ['i'] },
        transitions: { limit: 10, increments: [{ itemId: 'i', neighborId: 'j', by: 1 }] },
      });
      expect(fenced.status).toBe('fenced');
      expect(await t.store.getTransitions(['i'])).toEqual([undefined]);
      expect(await t.store.readItemChanges(TRANSITIONS_STREAM, '0', 1)).toEqual([]);
      expect(await t.store.getHistories(['u'])).toEqual([[]]);
      expect(await t.store.getPopular('*', 1)).toEqual([]);
      expect(await t.store.getItemRegistry('mf', 0)).toEqual([]);
      expect(await t.store.readItemChanges('mf', '0', 1)).toEqual([]);
    });

    it('evicts rows not written since a time', async () => {
      await t.store.putRows('e', [
        { id: 'old', value: value(vec(1), 0, 0, 1_000) },
        { id: 'new', value: value(vec(1), 0, 0, 5_000) },
      ]);
      expect(await t.store.evictRows('e', 2_000)).toBe(1);
      expect((await t.store.getRows('e', ['old', 'new'])).map((r) => r !== undefined)).toEqual([false, true]);
    });
  });
}
