import type { Row } from '../../ports/index.ts';

/**
 * Binary layout of a row in Redis (little-endian), read and written by the Lua script too:
 *
 *   offset 0   u32  format (2)
 *   offset 4   u32  dimension n
 *   offset 8   f64  bias
 *   offset 16  f64  count
 *   offset 24  f64  version
 *   offset 32  f64  updatedAt (ms since the epoch)
 *   offset 40  u32  optimizer state length s
 *   offset 44  u32  reserved (0)
 *   offset 48  f32 * (n + s)  vector, then optimizer state
 *
 * A delta payload uses the same header (bias, count and updatedAt are increments and time;
 * version is unused) followed by the n + s deltas and, optionally, n + s initial values.
 */
export const ROW_FORMAT = 2;
export const HEADER_BYTES = 48;

export function encodeRow(
  vector: Float32Array,
  state: Float32Array,
  bias: number,
  count: number,
  version: number,
  updatedAt: number,
  init?: Float32Array,
): Buffer {
  const n = vector.length;
  const s = state.length;
  const width = n + s;
  const buffer = Buffer.allocUnsafe(HEADER_BYTES + 4 * width * (init === undefined ? 1 : 2));
  buffer.writeUInt32LE(ROW_FORMAT, 0);
  buffer.writeUInt32LE(n, 4);
  buffer.writeDoubleLE(bias, 8);
  buffer.writeDoubleLE(count, 16);
  buffer.writeDoubleLE(version, 24);
  buffer.writeDoubleLE(updatedAt, 32);
  buffer.writeUInt32LE(s, 40);
  buffer.writeUInt32LE(0, 44);
  writeFloats(buffer, HEADER_BYTES, vector);
  writeFloats(buffer, HEADER_BYTES + 4 * n, state);
  if (init !== undefined) {
    writeFloats(buffer, HEADER_BYTES + 4 * width, init);
    buffer.fill(0, HEADER_BYTES + 4 * (width + init.length));
  }
  return buffer;
}

export function decodeRow(buffer: Buffer): Row {
  const format = buffer.readUInt32LE(0);
  if (format !== ROW_FORMAT) throw new RangeError(`unknown row format ${format}`);
  const n = buffer.readUInt32LE(4);
  const s = buffer.readUInt32LE(40);
  return {
    vector: readFloats(buffer, HEADER_BYTES, n),
    state: readFloats(buffer, HEADER_BYTES + 4 * n, s),
    bias: buffer.readDoubleLE(8),
    count: buffer.readDoubleLE(16),
    version: buffer.readDoubleLE(24),
    updatedAt: buffer.readDoubleLE(32),
  };
}

function writeFloats(buffer: Buffer, offset: number, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) buffer.writeFloatLE(values[i] as number, offset + 4 * i);
}

function readFloats(buffer: Buffer, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = buffer.readFloatLE(offset + 4 * i);
  return out;
}
