import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRecsysError } from '../../shared/errors/index.ts';
import {
  CATALOG_STREAM,
  MODEL_TABLES,
  TRANSITIONS_STREAM,
  type ModelStore,
  type RowDelta,
  type RowValue,
  type SnapshotEntry,
} from '../../shared/ports/index.ts';

export interface ModelStoreFixture {
  /** A store on a fresh, empty namespace. */
  readonly store: ModelStore;
  /** A second client on the same namespace (another process, in real deployments). */
  second(): Promise<ModelStore>;
  /** Another store on its own empty namespace (cleaned up with the fixture). */
  fresh(): Promise<ModelStore>;
  cleanup(): Promise<void>;
}

const vec = (...values: number[]): Float32Array => Float32Array.from(values);

function value(vector: Float32Array, bias = 0, count = 0, updatedAt = 1_000): RowValue {
  return { vector, bias, count, updatedAt };
}

function delta(vector: Float32Array | Float64Array, extra: Partial<RowDelta> = {}): RowDelta {
  return { vector, bias: 0, count: 1, updatedAt: 1_000, ...extra };
}

/** The behaviour every ModelStore adapter must have (run against memory and Redis). */
export function describeModelStoreContract(name: string, open: () => Promise<ModelStoreFixture>): void {
  describe(`ModelStore contract: ${name}`, () => {
    let fixture: ModelStoreFixture;
    let store: ModelStore;
    const extra: ModelStore[] = [];

    beforeEach(async () => {
      fixture = await open();
      store = fixture.store;
    });

    afterEach(async () => {
      await Promise.all(extra.splice(0).map((s) => s.close()));
      await store.close();
      await fixture.cleanup();
    });

    it('reads a missing row as undefined, not an error', async () => {
      expect(await store.getRows('mf:user', ['nobody'])).toEqual([undefined]);
    });

    it('round-trips rows exactly and counts versions per write', async () => {
      const v = vec(0.1, -2.5, 3.25e-7, 1e30);
      await store.putRows('mf:user', [{ id: 'u1', value: value(v, -0.125, 7, 1_700_000_000_123) }]);
      const [first] = await store.getRows('mf:user', ['u1']);
      expect(first).toBeDefined();
      expect(Array.from(first!.vector)).toEqual(Array.from(v));
      expect(first).toMatchObject({ bias: -0.125, count: 7, version: 1, updatedAt: 1_700_000_000_123 });
      await store.putRows('mf:user', [{ id: 'u1', value: value(vec(1, 2, 3, 4), 0, 8, 5) }]);
      const [second] = await store.getRows('mf:user', ['u1']);
      expect(second?.version).toBe(2);
      expect(Array.from(second!.vector)).toEqual([1, 2, 3, 4]);
    });

    it('keeps tables apart and answers in the order asked, with gaps for missing rows', async () => {
      await store.putRows('mf:user', [
        { id: 'a', value: value(vec(1)) },
        { id: 'c', value: value(vec(3)) },
      ]);
      await store.putRows('mf:item', [{ id: 'a', value: value(vec(9)) }]);
      const rows = await store.getRows('mf:user', ['c', 'b', 'a']);
      expect(rows.map((r) => (r === undefined ? undefined : r.vector[0]))).toEqual([3, undefined, 1]);
      expect((await store.getRows('mf:item', ['a']))[0]?.vector[0]).toBe(9);
    });

    it("reads a user's rows, history and record in one call, as the separate reads give them", async () => {
      const user = 'u:1é*';
      await store.putRows('mf:user', [{ id: user, value: value(vec(1.5, -2), 0.25, 3, 1_234) }]);
      await store.putRows('ncf:mlp:user', [{ id: user, value: value(vec(7), 0, 2, 99) }]);
      await store.putRows('mf:user', [{ id: 'other', value: value(vec(9, 9)) }]);
      await store.commit({ history: [{ userId: user, items: ['a', 'b:c', 'ü'] }] });
      await store.putUsers([
        { id: user, record: { userId: user, tags: ['jazz'], attributes: { country: 'FR' } } },
      ]);

      const state = await store.getUserState(user, ['mf:user', 'ncf:gmf:user', 'ncf:mlp:user']);
      const [mf, gmf, mlp] = state.rows;
      expect(Array.from(mf!.vector)).toEqual([1.5, -2]);
      expect(mf).toMatchObject({ bias: 0.25, count: 3, updatedAt: 1_234, version: 1 });
      expect(gmf).toBeUndefined();
      expect(Array.from(mlp!.vector)).toEqual([7]);
      expect(state.history).toEqual(['a', 'b:c', 'ü']);
      expect(state.record).toEqual({ userId: user, tags: ['jazz'], attributes: { country: 'FR' } });
      // The same as the separate reads.
      expect(state.rows).toEqual([
        (await store.getRows('mf:user', [user]))[0],
        undefined,
        (await store.getRows('ncf:mlp:user', [user]))[0],
      ]);
      expect(state.history).toEqual((await store.getHistories([user]))[0]);
      expect(state.record).toEqual((await store.getUsers([user]))[0]);

      const stranger = await store.getUserState('nobody', ['mf:user']);
      expect(stranger).toEqual({ rows: [undefined], history: [], record: undefined });
      expect((await store.getUserState(user, [])).rows).toEqual([]);
    });

    it('does not let a caller mutate stored rows through returned or given arrays', async () => {
      const v = vec(1, 1);
      await store.putRows('t', [{ id: 'x', value: value(v) }]);
      v[0] = 99;
      const [read] = await store.getRows('t', ['x']);
      read!.vector[1] = 42;
      const [again] = await store.getRows('t', ['x']);
      expect(Array.from(again!.vector)).toEqual([1, 1]);
    });

    it('creates a missing row from its init vector plus the delta, then adds further deltas', async () => {
      await store.addDeltas('mf:item', [
        { id: 'i1', value: delta(vec(0.5, 0.5), { init: vec(1, 2), bias: 0.25, updatedAt: 10 }) },
        { id: 'i2', value: delta(vec(1, -1), { updatedAt: 20 }) },
      ]);
      await store.addDeltas('mf:item', [{ id: 'i1', value: delta(vec(1, 1), { bias: 0.5, updatedAt: 5 }) }]);
      const [i1, i2] = await store.getRows('mf:item', ['i1', 'i2']);
      expect(Array.from(i1!.vector)).toEqual([2.5, 3.5]);
      expect(i1).toMatchObject({ bias: 0.75, count: 2, version: 2, updatedAt: 10 });
      expect(Array.from(i2!.vector)).toEqual([1, -1]);
      expect(i2).toMatchObject({ count: 1, version: 1, updatedAt: 20 });
    });

    it('sums concurrent delta adds from two clients exactly', async () => {
      const other = await fixture.second();
      extra.push(other);
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
          [0, store],
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
      await store.commit({
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
      const [row] = await store.getRows('t', ['r']);
      expect(Array.from(row!.vector)).toEqual([2, 3]);
      expect(row).toMatchObject({ count: 3, version: 3 });
    });

    it('advances offsets by compare-and-set and fences a batch that does not start at the stored offset', async () => {
      const first = await store.commit({
        offsets: [{ scope: 'g', partition: 3, fromOffset: 0, nextOffset: 10 }],
        puts: [{ table: 't', rows: [{ id: 'a', value: value(vec(1)) }] }],
        counters: [{ name: 'events', field: 'u1', by: 10 }],
      });
      expect(first).toEqual({ status: 'committed' });
      expect(await store.getOffsets('g')).toEqual(new Map([[3, 10]]));

      // A replay of the same batch (a retried write, or a zombie consumer) changes nothing.
      const replay = await store.commit({
        offsets: [{ scope: 'g', partition: 3, fromOffset: 0, nextOffset: 10 }],
        puts: [{ table: 't', rows: [{ id: 'a', value: value(vec(2)) }] }],
        counters: [{ name: 'events', field: 'u1', by: 10 }],
      });
      expect(replay).toEqual({ status: 'fenced', partition: 3, storedOffset: 10 });
      // So does a batch that would skip records.
      const gap = await store.commit({
        offsets: [{ scope: 'g', partition: 3, fromOffset: 12, nextOffset: 20 }],
        puts: [{ table: 't', rows: [{ id: 'b', value: value(vec(3)) }] }],
      });
      expect(gap).toEqual({ status: 'fenced', partition: 3, storedOffset: 10 });
      const [a, b] = await store.getRows('t', ['a', 'b']);
      expect(a?.vector[0]).toBe(1);
      expect(b).toBeUndefined();
      expect(await store.getCounters('events', ['u1', 'u2'])).toEqual([10, 0]);

      const next = await store.commit({
        offsets: [{ scope: 'g', partition: 3, fromOffset: 10, nextOffset: 15 }],
        counters: [{ name: 'events', field: 'u1', by: 5 }],
      });
      expect(next.status).toBe('committed');
      expect(await store.getOffsets('g')).toEqual(new Map([[3, 15]]));
      expect(await store.getOffsets('other-scope')).toEqual(new Map());
      expect(await store.getCounters('events', ['u1'])).toEqual([15]);
    });

    it('checks several offset advances in order, chaining consecutive batches of one partition', async () => {
      await store.commit({ offsets: [{ scope: 'g', partition: 0, fromOffset: 0, nextOffset: 5 }] });
      const chained = await store.commit({
        offsets: [
          { scope: 'g', partition: 0, fromOffset: 5, nextOffset: 9 },
          { scope: 'g', partition: 1, fromOffset: 0, nextOffset: 3 },
          { scope: 'g', partition: 0, fromOffset: 9, nextOffset: 12 },
        ],
        counters: [{ name: 'c', field: 'n', by: 1 }],
      });
      expect(chained.status).toBe('committed');
      expect(await store.getOffsets('g')).toEqual(
        new Map([
          [0, 12],
          [1, 3],
        ]),
      );
      // One stale advance fences the whole write.
      const mixed = await store.commit({
        offsets: [
          { scope: 'g', partition: 1, fromOffset: 3, nextOffset: 4 },
          { scope: 'g', partition: 0, fromOffset: 9, nextOffset: 13 },
        ],
        counters: [{ name: 'c', field: 'n', by: 1 }],
      });
      expect(mixed).toEqual({ status: 'fenced', partition: 0, storedOffset: 12 });
      expect(await store.getCounters('c', ['n'])).toEqual([1]);
      expect((await store.getOffsets('g')).get(1)).toBe(3);
    });

    it('writes a batch with a NaN nowhere: rows, counters and offset stay as they were', async () => {
      await store.commit({ offsets: [{ scope: 'g', partition: 0, fromOffset: 0, nextOffset: 1 }] });
      const attempt = store.commit({
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
      expect(await store.getRows('t', ['ok', 'bad'])).toEqual([undefined, undefined]);
      expect(await store.getCounters('c', ['f'])).toEqual([0]);
      expect(await store.getOffsets('g')).toEqual(new Map([[0, 1]]));
      await expect(
        store.addDeltas('t', [{ id: 'x', value: delta(vec(Number.POSITIVE_INFINITY)) }]),
      ).rejects.toSatisfy((e: unknown) => isRecsysError(e) && e.code === 'NON_FINITE_VALUE');
    });

    it('rejects a batch whose delta does not match the row dimension, writing nothing', async () => {
      await store.putRows('t', [{ id: 'two', value: value(vec(1, 2)) }]);
      const attempt = store.commit({
        offsets: [{ scope: 'g', partition: 0, fromOffset: 0, nextOffset: 5 }],
        puts: [{ table: 't', rows: [{ id: 'new', value: value(vec(7)) }] }],
        deltas: [{ table: 't', rows: [{ id: 'two', value: delta(vec(1, 2, 3)) }] }],
      });
      await expect(attempt).rejects.toThrow(/dimension/i);
      expect(await store.getRows('t', ['new'])).toEqual([undefined]);
      expect(Array.from((await store.getRows('t', ['two']))[0]!.vector)).toEqual([1, 2]);
      expect(await store.getOffsets('g')).toEqual(new Map());
    });

    it('handles a batch of 10,000 rows with its offset in one commit', async () => {
      const dim = 32;
      const rows = Array.from({ length: 10_000 }, (_, i) => {
        const v = new Float32Array(dim);
        for (let d = 0; d < dim; d++) v[d] = Math.fround(Math.sin(i * dim + d));
        return { id: `user-${i}`, value: value(v, i / 10, i, 1_000 + i) };
      });
      const result = await store.commit({
        offsets: [{ scope: 'big', partition: 0, fromOffset: 0, nextOffset: 10_000 }],
        puts: [{ table: 'mf:user', rows }],
      });
      expect(result.status).toBe('committed');
      const read = await store.getRows(
        'mf:user',
        rows.map((r) => r.id),
      );
      expect(read).toHaveLength(10_000);
      for (const i of [0, 1, 4_999, 9_999]) {
        expect(Array.from(read[i]!.vector)).toEqual(Array.from(rows[i]!.value.vector));
        expect(read[i]).toMatchObject({ bias: i / 10, count: i, version: 1, updatedAt: 1_000 + i });
      }
      expect(read.every((r) => r !== undefined)).toBe(true);
      expect(await store.getOffsets('big')).toEqual(new Map([[0, 10_000]]));
    });

    it("adds float64 deltas exactly: a lone writer's stored row equals its local row bit for bit", async () => {
      const dim = 32;
      const rows = 200;
      const random = (k: number) =>
        Math.sin(k * 12.9898) * 43758.5453 - Math.floor(Math.sin(k * 12.9898) * 43758.5453) - 0.5;
      const base = Array.from({ length: rows }, (_, r) =>
        Float32Array.from({ length: dim }, (_, d) => random(r * dim + d)),
      );
      await store.putRows(
        'x',
        base.map((v, r) => ({ id: `r${r}`, value: value(v) })),
      );
      // Local training moves each float32 row; the writer sends current - base in float64.
      const local = base.map((v, r) =>
        Float32Array.from(v, (x, d) => x - 0.013 * random(r + d + 7) * x + 1e-7 * d),
      );
      await store.addDeltas(
        'x',
        local.map((v, r) => ({
          id: `r${r}`,
          value: delta(
            Float64Array.from(v, (x, d) => x - (base[r]![d] as number)),
            { count: 0 },
          ),
        })),
      );
      const stored = await store.getRows(
        'x',
        base.map((_, r) => `r${r}`),
      );
      stored.forEach((row, r) =>
        expect(Buffer.from(row!.vector.buffer).equals(Buffer.from(local[r]!.buffer))).toBe(true),
      );
    });

    it('writes the full row when the expected version still matches, else adds the delta', async () => {
      await store.putRows('o', [{ id: 'r', value: { ...value(vec(1, 2), 0.5), state: vec(1) } }]);
      // Version 1 stored; the writer read it and ends at [1.5, 2.25] (+ [0.5, 0.25]).
      const optimistic = delta(Float64Array.of(0.5, 0.25), {
        state: Float64Array.of(2),
        bias: 0.25,
        expectedVersion: 1,
        full: { vector: vec(1.5, 2.25), state: vec(3), bias: 0.75, count: 1 },
      });
      await store.addDeltas('o', [{ id: 'r', value: optimistic }]);
      const [written] = await store.getRows('o', ['r']);
      expect(Array.from(written!.vector)).toEqual([1.5, 2.25]);
      expect(Array.from(written!.state)).toEqual([3]);
      expect(written).toMatchObject({ bias: 0.75, count: 1, version: 2 });
      // Stale: someone wrote version 2 since; the same message now adds its delta.
      await store.addDeltas('o', [{ id: 'r', value: optimistic }]);
      const [added] = await store.getRows('o', ['r']);
      expect(Array.from(added!.vector)).toEqual([2, 2.5]);
      expect(Array.from(added!.state)).toEqual([5]);
      expect(added).toMatchObject({ bias: 1, count: 2, version: 3 });
      // Expected version 0: the row must not exist yet.
      await store.addDeltas('o', [
        {
          id: 'new',
          value: delta(Float64Array.of(9), {
            expectedVersion: 0,
            full: { vector: vec(9), bias: 0, count: 1 },
          }),
        },
      ]);
      expect(Array.from((await store.getRows('o', ['new']))[0]!.vector)).toEqual([9]);
    });

    it('keeps optimizer state with a row: puts overwrite it, deltas add to it', async () => {
      await store.putRows('s', [{ id: 'r', value: { ...value(vec(1, 2)), state: vec(0.5, 4) } }]);
      await store.addDeltas('s', [{ id: 'r', value: delta(vec(1, 1), { state: vec(0.25, 1) }) }]);
      const [row] = await store.getRows('s', ['r']);
      expect(Array.from(row!.vector)).toEqual([2, 3]);
      expect(Array.from(row!.state)).toEqual([0.75, 5]);
      await store.addDeltas('s', [{ id: 'fresh', value: delta(vec(1), { init: vec(2), state: vec(3) }) }]);
      const [fresh] = await store.getRows('s', ['fresh']);
      expect(Array.from(fresh!.vector)).toEqual([3]);
      expect(Array.from(fresh!.state)).toEqual([3]);
      await expect(store.addDeltas('s', [{ id: 'r', value: delta(vec(1, 1)) }])).rejects.toThrow(
        /dimension|values/i,
      );
    });

    it('appends user histories and keeps the latest 100, oldest first', async () => {
      const items = Array.from({ length: 105 }, (_, i) => `i${i}`);
      await store.commit({ history: [{ userId: 'u1', items: items.slice(0, 60) }] });
      await store.commit({
        history: [
          { userId: 'u1', items: items.slice(60) },
          { userId: 'u2', items: ['x'] },
        ],
      });
      const [u1, u2, u3] = await store.getHistories(['u1', 'u2', 'nobody']);
      expect(u1).toEqual(items.slice(5));
      expect(u2).toEqual(['x']);
      expect(u3).toEqual([]);
    });

    it('adds popularity per segment in the log domain and returns the best first', async () => {
      await store.commit({
        popularity: [
          { segment: '*', itemId: 'a', by: 1 },
          { segment: '*', itemId: 'b', by: 2.5 },
          { segment: 'device=tv', itemId: 'a', by: 4 },
          // 1997 on a 2026 epoch with a week's half-life: 2^-1500 is 0 as a linear score.
          { segment: 'old', itemId: 'x', by: -1500 },
          { segment: 'old', itemId: 'y', by: -1500.5 },
        ],
      });
      await store.commit({
        popularity: [
          { segment: '*', itemId: 'a', by: 2 },
          { segment: 'old', itemId: 'y', by: -1500.5 },
        ],
      });
      // log2(2^1 + 2^2) = log2(6) = 2.5849625
      const all = await store.getPopular('*', 5);
      expect(all.map((e) => e.itemId)).toEqual(['a', 'b']);
      expect(all[0]?.score).toBeCloseTo(2.5849625, 6);
      expect(all[1]?.score).toBe(2.5);
      expect(await store.getPopular('device=tv', 1)).toEqual([{ itemId: 'a', score: 4 }]);
      // Two at -1500.5 make one at -1499.5: ahead of the single -1500.
      const old = await store.getPopular('old', 2);
      expect(old.map((e) => e.itemId)).toEqual(['y', 'x']);
      expect(old[0]?.score).toBeCloseTo(-1499.5, 9);
      expect(await store.getPopular('device=radio', 3)).toEqual([]);
    });

    it('adds transition weights, keeps each degree whole and streams the changed items', async () => {
      await store.commit({
        transitions: {
          limit: 10,
          increments: [
            { itemId: 'a', neighborId: 'b', by: 1 },
            { itemId: 'b', neighborId: 'a', by: 1 },
            { itemId: 'a', neighborId: 'c', by: 0.5 },
            { itemId: 'a', neighborId: 'b', by: 0.25 },
          ],
        },
      });
      await store.commit({
        transitions: { limit: 10, increments: [{ itemId: 'a', neighborId: 'c', by: 2 }] },
      });
      expect(await store.getTransitions(['a', 'b', 'none'])).toEqual([
        // a: b 1 + 0.25, c 0.5 + 2; degree 1 + 0.5 + 0.25 + 2.
        {
          degree: 3.75,
          neighbors: [
            { itemId: 'c', weight: 2.5 },
            { itemId: 'b', weight: 1.25 },
          ],
        },
        { degree: 1, neighbors: [{ itemId: 'a', weight: 1 }] },
        undefined,
      ]);
      const changes = await store.readItemChanges(TRANSITIONS_STREAM, '0', 10);
      expect(changes.map((c) => [...c.items].sort())).toEqual([['a', 'b'], ['a']]);
    });

    it('trims a transition list past twice its limit to the strongest, the degree untouched', async () => {
      // Limit 2: five neighbours (more than 2 * 2) leave the strongest two; four would stay.
      const increments = [1, 2, 3, 4].map((w) => ({ itemId: 'x', neighborId: `n${w}`, by: w }));
      await store.commit({ transitions: { limit: 2, increments } });
      expect((await store.getTransitions(['x']))[0]?.neighbors).toHaveLength(4);
      await store.commit({
        transitions: { limit: 2, increments: [{ itemId: 'x', neighborId: 'n5', by: 5 }] },
      });
      expect(await store.getTransitions(['x'])).toEqual([
        {
          degree: 15,
          neighbors: [
            { itemId: 'n5', weight: 5 },
            { itemId: 'n4', weight: 4 },
          ],
        },
      ]);
      // A neighbour trimmed away starts again from its new additions.
      await store.commit({
        transitions: { limit: 2, increments: [{ itemId: 'x', neighborId: 'n1', by: 4.5 }] },
      });
      expect((await store.getTransitions(['x']))[0]).toEqual({
        degree: 19.5,
        neighbors: [
          { itemId: 'n5', weight: 5 },
          { itemId: 'n1', weight: 4.5 },
          { itemId: 'n4', weight: 4 },
        ],
      });
    });

    it('registers items once, in first-seen order', async () => {
      await store.commit({ newItems: { registry: 'mf', ids: ['b', 'a', 'b'] } });
      await store.commit({ newItems: { registry: 'mf', ids: ['c', 'a'] } });
      await store.commit({ newItems: { registry: 'other', ids: ['z'] } });
      expect(await store.getItemRegistry('mf', 0)).toEqual(['b', 'a', 'c']);
      expect(await store.getItemRegistry('mf', 2)).toEqual(['c']);
      expect(await store.getItemRegistry('other', 0)).toEqual(['z']);
      expect(await store.getItemRegistry('none', 0)).toEqual([]);
    });

    it('reads a registry and the catalog ids larger than one read page whole (Redis pages by 10,000)', async () => {
      const ids = Array.from({ length: 25_003 }, (_, i) => `n${i}`);
      for (let start = 0; start < ids.length; start += 5_000)
        await store.commit({ newItems: { registry: 'big', ids: ids.slice(start, start + 5_000) } });
      expect(await store.getItemRegistry('big', 0)).toEqual(ids);
      expect(await store.getItemRegistry('big', 12_345)).toEqual(ids.slice(12_345));
      expect(await store.getItemRegistry('big', 25_003)).toEqual([]);
      await store.putItems(ids.map((id) => ({ id, record: { itemId: id } })));
      const listed = await store.listItemIds();
      expect(listed).toHaveLength(ids.length);
      expect(new Set(listed)).toEqual(new Set(ids));
    });

    it('streams changed item ids in order and resumes after a position', async () => {
      await store.commit({ changedItems: { stream: 'mf', ids: ['a', 'b'] } });
      await store.commit({ changedItems: { stream: 'mf', ids: ['c'] } });
      await store.commit({ changedItems: { stream: 'neumf', ids: ['d'] } });
      const all = await store.readItemChanges('mf', '0', 10);
      expect(all.map((e) => e.items)).toEqual([['a', 'b'], ['c']]);
      expect((await store.readItemChanges('mf', all[0]!.id, 10)).map((e) => e.items)).toEqual([['c']]);
      expect(await store.readItemChanges('mf', all[1]!.id, 10)).toEqual([]);
      expect((await store.readItemChanges('neumf', '0', 10)).map((e) => e.items)).toEqual([['d']]);
    });

    it('writes no history, popularity, registry or change entry for a fenced batch', async () => {
      await store.commit({ offsets: [{ scope: 'g', partition: 0, fromOffset: 0, nextOffset: 5 }] });
      const fenced = await store.commit({
        offsets: [{ scope: 'g', partition: 0, fromOffset: 0, nextOffset: 5 }],
        history: [{ userId: 'u', items: ['i'] }],
        popularity: [{ segment: '*', itemId: 'i', by: 1 }],
        newItems: { registry: 'mf', ids: ['i'] },
        changedItems: { stream: 'mf', ids: ['i'] },
        transitions: { limit: 10, increments: [{ itemId: 'i', neighborId: 'j', by: 1 }] },
      });
      expect(fenced.status).toBe('fenced');
      expect(await store.getTransitions(['i'])).toEqual([undefined]);
      expect(await store.readItemChanges(TRANSITIONS_STREAM, '0', 1)).toEqual([]);
      expect(await store.getHistories(['u'])).toEqual([[]]);
      expect(await store.getPopular('*', 1)).toEqual([]);
      expect(await store.getItemRegistry('mf', 0)).toEqual([]);
      expect(await store.readItemChanges('mf', '0', 1)).toEqual([]);
    });

    it('evicts rows not written since a time', async () => {
      await store.putRows('e', [
        { id: 'old', value: value(vec(1), 0, 0, 1_000) },
        { id: 'new', value: value(vec(1), 0, 0, 5_000) },
      ]);
      expect(await store.evictRows('e', 2_000)).toBe(1);
      expect((await store.getRows('e', ['old', 'new'])).map((r) => r !== undefined)).toEqual([false, true]);
    });

    it('stores catalog items and users', async () => {
      await store.putItems([
        { id: 'i1', record: { itemId: 'i1', tags: ['jazz'], hidden: false } },
        { id: 'i2', record: { itemId: 'i2', categories: ['books'] } },
      ]);
      await store.putUsers([{ id: 'u1', record: { userId: 'u1', attributes: { country: 'FR' } } }]);
      expect(await store.getItems(['i2', 'nope', 'i1'])).toEqual([
        { itemId: 'i2', categories: ['books'] },
        undefined,
        { itemId: 'i1', tags: ['jazz'], hidden: false },
      ]);
      expect((await store.listItemIds()).sort()).toEqual(['i1', 'i2']);
      expect(await store.deleteItem('i1')).toBe(true);
      expect(await store.deleteItem('i1')).toBe(false);
      expect(await store.listItemIds()).toEqual(['i2']);
      expect(await store.getUsers(['u1'])).toEqual([{ userId: 'u1', attributes: { country: 'FR' } }]);
    });

    it('appends catalog writes and deletions to the catalog change stream', async () => {
      await store.putItems([
        { id: 'c1', record: { itemId: 'c1' } },
        { id: 'c2', record: { itemId: 'c2' } },
      ]);
      expect(await store.deleteItem('c1')).toBe(true);
      expect(await store.deleteItem('c1')).toBe(false);
      const changes = await store.readItemChanges(CATALOG_STREAM, '0', 10);
      expect(changes.map((c) => c.items)).toEqual([['c1', 'c2'], ['c1']]);
      const first = changes[0] as { id: string };
      expect((await store.readItemChanges(CATALOG_STREAM, first.id, 10)).map((c) => c.items)).toEqual([
        ['c1'],
      ]);
    });

    it('answers ping while open', async () => {
      expect(await store.ping()).toBe(true);
    });

    it('exports a snapshot that restores, into an empty store, to the same state', async () => {
      await store.commit({
        offsets: [{ scope: 'g-mf', partition: 2, fromOffset: 0, nextOffset: 17 }],
        puts: [
          {
            table: 'mf:user',
            rows: [{ id: 'u:1*', value: value(vec(0.5, -1.25), 0.25, 3, 1_700_000_000_001) }],
          },
          { table: 'ncf:gmf:item', rows: [{ id: 'i[1]', value: value(vec(2, 4), 0, 1, 5) }] },
        ],
        counters: [
          { name: 'events:mf', field: 'u:1*', by: 3 },
          { name: 'quality', field: 'mf:hits', by: 2 },
        ],
        history: [{ userId: 'u:1*', items: ['a', 'b:c'] }],
        newItems: { registry: 'mf', ids: ['a', 'b:c'] },
        popularity: [
          { segment: 'device=mobile|hour=evening', itemId: 'a', by: 1.5 },
          { segment: '*', itemId: 'b:c', by: 2 },
        ],
        transitions: {
          limit: 10,
          increments: [
            { itemId: 'a', neighborId: 'b:c', by: 0.75 },
            { itemId: 'b:c', neighborId: 'a', by: 0.75 },
          ],
        },
      });
      await store.putRows('mf:user', [
        { id: 'u:1*', value: value(vec(0.75, -1), 0.5, 4, 1_700_000_000_002) },
      ]);
      await store.putItems([{ id: 'b:c', record: { itemId: 'b:c', tags: ['x'] } }]);
      await store.putUsers([{ id: 'u:1*', record: { userId: 'u:1*', tags: ['y'] } }]);

      const collect = async (from: ModelStore): Promise<SnapshotEntry[]> => {
        const out: SnapshotEntry[] = [];
        for await (const entry of from.snapshot(MODEL_TABLES)) out.push(entry);
        return out.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
      };
      const exported = await collect(store);
      expect(exported.map((e) => e.kind).sort()).toEqual([
        'counter',
        'counter',
        'history',
        'item',
        'offsets',
        'popularity',
        'popularity',
        'registry',
        'row',
        'row',
        'transitions',
        'transitions',
        'user',
      ]);
      const target = await fixture.fresh();
      extra.push(target);
      await target.restore(exported);
      expect(await collect(target)).toEqual(exported);
      // And through the ordinary reads:
      const [row] = await target.getRows('mf:user', ['u:1*']);
      expect(Array.from(row!.vector)).toEqual([0.75, -1]);
      expect(row).toMatchObject({ bias: 0.5, count: 4, version: 2, updatedAt: 1_700_000_000_002 });
      expect(await target.getOffsets('g-mf')).toEqual(new Map([[2, 17]]));
      expect(await target.getCounters('quality', ['mf:hits'])).toEqual([2]);
      expect(await target.getHistories(['u:1*'])).toEqual([['a', 'b:c']]);
      expect(await target.getItemRegistry('mf', 0)).toEqual(['a', 'b:c']);
      expect(await target.getPopular('device=mobile|hour=evening', 5)).toEqual([{ itemId: 'a', score: 1.5 }]);
      expect(await target.getTransitions(['a'])).toEqual([
        { degree: 0.75, neighbors: [{ itemId: 'b:c', weight: 0.75 }] },
      ]);
      expect(await target.listItemIds()).toEqual(['b:c']);
      expect(await target.getUsers(['u:1*'])).toEqual([{ userId: 'u:1*', tags: ['y'] }]);
      const changes = await target.readItemChanges(CATALOG_STREAM, '0', 10);
      expect(changes.flatMap((c) => c.items)).toContain('b:c');
      // Training continues where the snapshot left off: the next batch is not fenced, a known
      // item is not registered twice.
      const next = await target.commit({
        offsets: [{ scope: 'g-mf', partition: 2, fromOffset: 17, nextOffset: 18 }],
        newItems: { registry: 'mf', ids: ['b:c', 'd'] },
      });
      expect(next.status).toBe('committed');
      expect(await target.getItemRegistry('mf', 0)).toEqual(['a', 'b:c', 'd']);
    });
  });
}
