/**
 * A byte format for model state: a JSON manifest plus the typed arrays it references, stored
 * back to back. Pure functions (the caller writes the bytes wherever it wants: a file, Redis).
 *
 *   bytes 0..3   "RSCK"
 *   bytes 4..7   u32 little-endian: manifest length m
 *   bytes 8..8+m manifest (UTF-8 JSON); every typed array is {"$t":"f32"|"f64"|"i32"|"u8","o":offset,"n":length}
 *   then         the arrays' bytes (offsets are relative to this section, 8-byte aligned)
 */
type Typed = Float32Array | Float64Array | Int32Array | Uint8Array;

const MAGIC = 0x4b435352; // "RSCK" little-endian
const KINDS = { f32: Float32Array, f64: Float64Array, i32: Int32Array, u8: Uint8Array } as const;
type Kind = keyof typeof KINDS;

function kindOf(value: unknown): Kind | undefined {
  if (value instanceof Float32Array) return 'f32';
  if (value instanceof Float64Array) return 'f64';
  if (value instanceof Int32Array) return 'i32';
  if (value instanceof Uint8Array) return 'u8';
  return undefined;
}

export function encodeCheckpoint(state: unknown): Uint8Array {
  const blobs: Typed[] = [];
  let size = 0;
  const manifest = JSON.stringify(state, (_key, value: unknown) => {
    const kind = kindOf(value);
    if (kind === undefined) return value;
    const typed = value as Typed;
    const offset = size;
    blobs.push(typed);
    size = align8(size + typed.byteLength);
    return { $t: kind, o: offset, n: typed.length };
  });
  const head = new TextEncoder().encode(manifest);
  const dataStart = align8(8 + head.length);
  const out = new Uint8Array(dataStart + size);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, head.length, true);
  out.set(head, 8);
  let offset = 0;
  for (const blob of blobs) {
    out.set(new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength), dataStart + offset);
    offset = align8(offset + blob.byteLength);
  }
  return out;
}

export function decodeCheckpoint<T>(bytes: Uint8Array): T {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || view.getUint32(0, true) !== MAGIC) throw new RangeError('not a recsys checkpoint');
  const length = view.getUint32(4, true);
  const manifest = new TextDecoder().decode(bytes.subarray(8, 8 + length));
  const dataStart = align8(8 + length);
  return JSON.parse(manifest, (_key, value: unknown) => {
    if (value !== null && typeof value === 'object' && '$t' in value) {
      const { $t, o, n } = value as { $t: Kind; o: number; n: number };
      const Ctor = KINDS[$t];
      const start = bytes.byteOffset + dataStart + o;
      // Copy into a fresh, aligned buffer (the input may be a view at any offset).
      const copy = new Uint8Array(n * Ctor.BYTES_PER_ELEMENT);
      copy.set(new Uint8Array(bytes.buffer, start, copy.length));
      return new Ctor(copy.buffer);
    }
    return value;
  }) as T;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
