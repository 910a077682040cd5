import type { Row } from '../../ports/index.ts';

/**
 * Binary layout of a row in Redis (little-endian), read and written by the Lua scripts too:
 *
 *   offset 0  u32  format (1)
 *   offset 4  u32  dimension n
 *   offset 8  f64  bias
 *   offset 16 f64  count
 *   offset 24 f64  version
 *   offset 32 f64  updatedAt (ms since the epoch)
 *   offset 40 f32 * n  vector
 *
 * A delta payload uses the same header (bias, count and updatedAt are the increments and time;
 * version is unused) followed by the delta vector and, optionally, the initial vector.
 */
export const ROW_FORMAT = 1;
export const HEADER_BYTES = 40;

export function encodeRow(
  vector: Float32Array,
  bias: number,
  count: number,
  version: number,
  updatedAt: number,
  init?: Float32Array,
): Buffer {
  const n = vector.length;
  const buffer = Buffer.allocUnsafe(HEADER_BYTES + 4 * n * (init === undefined ? 1 : 2));
  buffer.writeUInt32LE(ROW_FORMAT, 0);
  buffer.writeUInt32LE(n, 4);
  buffer.writeDoubleLE(bias, 8);
  buffer.writeDoubleLE(count, 16);
  buffer.writeDoubleLE(version, 24);
  buffer.writeDoubleLE(updatedAt, 32);
  writeFloats(buffer, HEADER_BYTES, vector);
  if (init !== undefined) writeFloats(buffer, HEADER_BYTES + 4 * n, init);
  return buffer;
}

export function decodeRow(buffer: Buffer): Row {
  const format = buffer.readUInt32LE(0);
  if (format !== ROW_FORMAT) throw new RangeError(`unknown row format ${format}`);
  const n = buffer.readUInt32LE(4);
  const vector = new Float32Array(n);
  for (let i = 0; i < n; i++) vector[i] = buffer.readFloatLE(HEADER_BYTES + 4 * i);
  return {
    vector,
    bias: buffer.readDoubleLE(8),
    count: buffer.readDoubleLE(16),
    version: buffer.readDoubleLE(24),
    updatedAt: buffer.readDoubleLE(32),
  };
}

function writeFloats(buffer: Buffer, offset: number, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) buffer.writeFloatLE(values[i] as number, offset + 4 * i);
}
