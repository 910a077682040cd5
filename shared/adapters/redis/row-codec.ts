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
 * A delta payload (format 0x44) uses the same header (bias, count and updatedAt are increments and
 * time; the version field holds the expected version; the reserved field says what follows):
 *   0  the n + s changes as f64, then optionally the n initial values as f64 (the optimizer state
 *      starts at zero); the script adds in double precision and rounds to f32 once;
 * An optimistic payload (encodeOptimistic) has no 0x44 header: see there.
 */
export const ROW_FORMAT = 2;
export const DELTA_FORMAT = 0x44;
export const HEADER_BYTES = 48;

export function encodeRow(
  vector: Float32Array,
  state: Float32Array,
  bias: number,
  count: number,
  version: number,
  updatedAt: number,
): Buffer {
  const n = vector.length;
  const s = state.length;
  const buffer = Buffer.allocUnsafe(HEADER_BYTES + 4 * (n + s));
  writeHeader(buffer, ROW_FORMAT, n, s, bias, count, version, updatedAt);
  writeFloats(buffer, HEADER_BYTES, vector);
  writeFloats(buffer, HEADER_BYTES + 4 * n, state);
  return buffer;
}

/** A delta payload (mode 0): changes in f64, then optionally the initial vector in f64. */
export function encodeDelta(
  vector: ArrayLike<number>,
  state: ArrayLike<number>,
  bias: number,
  count: number,
  updatedAt: number,
  init?: ArrayLike<number>,
): Buffer {
  const n = vector.length;
  const s = state.length;
  const buffer = Buffer.allocUnsafe(HEADER_BYTES + 8 * (n + s + (init === undefined ? 0 : n)));
  writeHeader(buffer, DELTA_FORMAT, n, s, bias, count, -1, updatedAt);
  let offset = HEADER_BYTES;
  for (const values of init === undefined ? [vector, state] : [vector, state, init]) {
    for (let i = 0; i < values.length; i++) {
      buffer.writeDoubleLE(values[i] as number, offset);
      offset += 8;
    }
  }
  return buffer;
}

/** First u32 of an optimistic payload ("OPT1"). */
export const OPTIMISTIC_MAGIC = 0x3154504f;

/**
 * An optimistic payload: "OPT1", 4 bytes of padding, the expected stored version (f64), then the
 * complete new row (header and values) exactly as it is to be stored. The script compares the
 * version bytes and writes the row as it is, or reports a conflict (no arithmetic in Lua at all).
 */
export function encodeOptimistic(
  vector: Float32Array,
  state: Float32Array,
  bias: number,
  count: number,
  updatedAt: number,
  expectedVersion: number,
): Buffer {
  const n = vector.length;
  const s = state.length;
  const buffer = Buffer.allocUnsafe(16 + HEADER_BYTES + 4 * (n + s));
  buffer.writeUInt32LE(OPTIMISTIC_MAGIC, 0);
  buffer.writeUInt32LE(0, 4);
  buffer.writeDoubleLE(expectedVersion, 8);
  const row = buffer.subarray(16);
  writeHeader(row, ROW_FORMAT, n, s, bias, count, expectedVersion + 1, updatedAt);
  writeFloats(row, HEADER_BYTES, vector);
  writeFloats(row, HEADER_BYTES + 4 * n, state);
  return buffer;
}

function writeHeader(
  buffer: Buffer,
  format: number,
  n: number,
  s: number,
  bias: number,
  count: number,
  version: number,
  updatedAt: number,
): void {
  buffer.writeUInt32LE(format, 0);
  buffer.writeUInt32LE(n, 4);
  buffer.writeDoubleLE(bias, 8);
  buffer.writeDoubleLE(count, 16);
  buffer.writeDoubleLE(version, 24);
  buffer.writeDoubleLE(updatedAt, 32);
  buffer.writeUInt32LE(s, 40);
  buffer.writeUInt32LE(0, 44);
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

/** Typed arrays are little-endian on every platform Node supports today; checked once anyway. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function writeFloats(buffer: Buffer, offset: number, values: Float32Array): void {
  if (LITTLE_ENDIAN) {
    buffer.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset);
    return;
  }
  for (let i = 0; i < values.length; i++) buffer.writeFloatLE(values[i] as number, offset + 4 * i);
}

function readFloats(buffer: Buffer, offset: number, count: number): Float32Array {
  const out = new Float32Array(count);
  if (LITTLE_ENDIAN) {
    // A copy: the reply buffer need not be 4-byte aligned.
    new Uint8Array(out.buffer).set(buffer.subarray(offset, offset + 4 * count));
    return out;
  }
  for (let i = 0; i < count; i++) out[i] = buffer.readFloatLE(offset + 4 * i);
  return out;
}
