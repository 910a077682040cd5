import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileWat, generatedModule, watSources } from '../../../scripts/build-wasm.ts';
import { DotScan } from '../../../shared/model/dot-scan.ts';
import { Random } from '../../../shared/model/random.ts';
import { selectTopK } from '../../../shared/model/topk.ts';

/** The inner product in f64, in a plain loop: the independent computation the kernel must match. */
function dot(row: ArrayLike<number>, query: ArrayLike<number>, columns: number): number {
  let s = 0;
  for (let d = 0; d < columns; d++) s += (row[d] as number) * ((query[d] as number | undefined) ?? 0);
  return s;
}

function filled(columns: number, rows: number[][]): DotScan {
  const scan = new DotScan(columns, 4);
  scan.reserve(rows.length);
  rows.forEach((row, i) => scan.matrix.set(row, i * scan.width));
  return scan;
}

describe('DotScan (WebAssembly SIMD inner products)', () => {
  it('scans every row and gathers listed rows, as a plain f64 loop does (within f32 rounding)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (columns, count, seed) => {
          const random = new Random(seed);
          const next = () => random.next() - 0.5;
          const rows = Array.from({ length: count }, () =>
            Array.from({ length: columns }, next).map(Math.fround),
          );
          const query = Array.from({ length: columns }, next).map(Math.fround);
          const scan = filled(columns, rows);
          const all = scan.scan(query, count).slice(); // a copy: the next call reuses the scratch
          expect(all.length).toBe(count);
          rows.forEach((row, i) => expect(all[i]).toBeCloseTo(dot(row, query, columns), 4));
          const positions = Array.from({ length: 2 * count }, (_, j) => (j * 7) % count);
          const some = scan.gather(query, positions);
          positions.forEach((p, j) => {
            expect(some[j]).toBeCloseTo(dot(rows[p] as number[], query, columns), 4);
            // The same summation order in both: the same bits.
            expect(some[j]).toBe(all[p]);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('top-k by a sampled floor is exactly the top-k of the full scan (ties, filters, NaN rows)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 300, max: 3_000 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (rows, k, every, seed) => {
          const random = new Random(seed);
          const next = () => random.int(9); // small integers: many exact ties
          const scan = new DotScan(3, rows);
          for (let i = 0; i < rows; i++) scan.matrix.set([next(), next(), next()], i * scan.width);
          scan.matrix[7 * scan.width] = Number.NaN; // a broken row never ranks
          const query = [1, 2, 3];
          const skip = (row: number) => row % every === 0;
          const want = selectTopK(Float32Array.from(scan.scan(query, rows)), k, rows, skip);
          const got = scan.top(query, rows, k, skip);
          expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
          expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('pads rows to a multiple of 4 and a short query with zeros', () => {
    const scan = filled(5, [
      [1, 2, 3, 4, 5],
      [-1, 0, 0, 0, 2],
    ]);
    expect(scan.width).toBe(8);
    expect(Array.from(scan.scan([1, 1], 2))).toEqual([3, -1]);
    expect(Array.from(scan.scan([0, 0, 0, 0, 1], 2))).toEqual([5, 2]);
  });

  it('keeps rows when it grows, starts new rows at zero and refreshes the matrix view', () => {
    const scan = new DotScan(3, 2);
    scan.matrix.set([1, 2, 3, 0, 4, 5, 6, 0]);
    // Scratch beyond the matrix is dirtied by a scan, then becomes rows when the matrix grows.
    scan.scan([Number.NaN, Number.NaN, Number.NaN], 2);
    const before = scan.matrix;
    scan.reserve(20_000);
    expect(scan.capacity).toBeGreaterThanOrEqual(20_000);
    // Growing the memory detached the old view: callers fetch `matrix` again.
    expect(before.length).toBe(0);
    expect(scan.matrix.length).toBe(scan.capacity * scan.width);
    expect(Array.from(scan.matrix.subarray(0, 8))).toEqual([1, 2, 3, 0, 4, 5, 6, 0]);
    expect(scan.matrix.subarray(8).every((x) => x === 0)).toBe(true);
    const scores = scan.scan([1, 1, 1], scan.capacity);
    expect([scores[0], scores[1], scores[2]]).toEqual([6, 15, 0]);
  });

  it('rejects rows and positions outside the matrix', () => {
    const scan = new DotScan(4, 8);
    expect(() => scan.scan([1], 9)).toThrow(RangeError);
    expect(() => scan.gather([1], [8])).toThrow(RangeError);
    expect(() => scan.gather([1], [-1])).toThrow(RangeError);
    expect(() => new DotScan(0)).toThrow(RangeError);
  });

  it('runs the binary compiled from the committed .wat source (npm run build:wasm is up to date)', async () => {
    for (const path of watSources()) {
      const name = basename(path, '.wat');
      const binary = await compileWat(readFileSync(path, 'utf8'), `${name}.wat`);
      const committed = readFileSync(path.replace(/\.wat$/, '.wasm.ts'), 'utf8');
      expect(committed, `${name}.wasm.ts is stale: run npm run build:wasm`).toBe(
        generatedModule(name, binary),
      );
    }
  });
});
