import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEADER_BYTES, decodeRow, encodeDelta, encodeRow } from '../../../shared/adapters/redis/index.ts';

describe('Redis row codec', () => {
  it('lays a row out as documented (header, vector, optimizer state; little-endian)', () => {
    const buffer = encodeRow(Float32Array.of(1.5, -2), Float32Array.of(7), 0.25, 3, 4, 5);
    expect(buffer.length).toBe(HEADER_BYTES + 12);
    expect(buffer.readUInt32LE(0)).toBe(2);
    expect(buffer.readUInt32LE(4)).toBe(2);
    expect(buffer.readDoubleLE(8)).toBe(0.25);
    expect(buffer.readDoubleLE(16)).toBe(3);
    expect(buffer.readDoubleLE(24)).toBe(4);
    expect(buffer.readDoubleLE(32)).toBe(5);
    expect(buffer.readUInt32LE(40)).toBe(1);
    expect(buffer.readFloatLE(48)).toBe(1.5);
    expect(buffer.readFloatLE(52)).toBe(-2);
    expect(buffer.readFloatLE(56)).toBe(7);
  });

  it('writes a delta in float64, with the initial vector after the changes', () => {
    const buffer = encodeDelta(
      Float64Array.of(1e-10, 1),
      Float64Array.of(0.5),
      0.25,
      1,
      9,
      Float64Array.of(3, 4),
    );
    expect(buffer.readUInt32LE(0)).toBe(0x44);
    expect(buffer.readUInt32LE(40)).toBe(1);
    expect(buffer.length).toBe(HEADER_BYTES + 8 * 5);
    expect([48, 56, 64, 72, 80].map((o) => buffer.readDoubleLE(o))).toEqual([1e-10, 1, 0.5, 3, 4]);
  });

  it('round-trips any finite row', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 128 }),
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 4 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.nat(),
        fc.nat(),
        (values, state, bias, count, version) => {
          const row = decodeRow(
            encodeRow(Float32Array.from(values), Float32Array.from(state), bias, count, version, 1234),
          );
          expect(Array.from(row.vector)).toEqual(Array.from(Float32Array.from(values)));
          expect(Array.from(row.state)).toEqual(Array.from(Float32Array.from(state)));
          expect(row).toMatchObject({ bias, count, version, updatedAt: 1234 });
        },
      ),
    );
  });
});
