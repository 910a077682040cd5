import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEADER_BYTES, decodeRow, encodeRow } from '../../../shared/adapters/redis/index.ts';

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

  it('appends the initial values of a delta, with zero optimizer state', () => {
    const buffer = encodeRow(Float32Array.of(1, 1), Float32Array.of(0.5), 0, 1, 0, 9, Float32Array.of(3, 4));
    expect(buffer.length).toBe(HEADER_BYTES + 24);
    expect([buffer.readFloatLE(60), buffer.readFloatLE(64), buffer.readFloatLE(68)]).toEqual([3, 4, 0]);
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
