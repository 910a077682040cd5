import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEADER_BYTES, decodeRow, encodeRow } from '../../../shared/adapters/redis/index.ts';

describe('Redis row codec', () => {
  it('lays a row out as documented (header then little-endian float32)', () => {
    const buffer = encodeRow(Float32Array.of(1.5, -2), 0.25, 3, 4, 5);
    expect(buffer.length).toBe(HEADER_BYTES + 8);
    expect(buffer.readUInt32LE(0)).toBe(1);
    expect(buffer.readUInt32LE(4)).toBe(2);
    expect(buffer.readDoubleLE(8)).toBe(0.25);
    expect(buffer.readDoubleLE(16)).toBe(3);
    expect(buffer.readDoubleLE(24)).toBe(4);
    expect(buffer.readDoubleLE(32)).toBe(5);
    expect(buffer.readFloatLE(40)).toBe(1.5);
    expect(buffer.readFloatLE(44)).toBe(-2);
  });

  it('round-trips any finite row', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 128 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.nat(),
        fc.nat(),
        (values, bias, count, version) => {
          const vector = Float32Array.from(values);
          const row = decodeRow(encodeRow(vector, bias, count, version, 1234));
          expect(Array.from(row.vector)).toEqual(Array.from(vector));
          expect(row).toMatchObject({ bias, count, version, updatedAt: 1234 });
        },
      ),
    );
  });
});
