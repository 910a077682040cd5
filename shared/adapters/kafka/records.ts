import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { ConsumedRecord } from '../../ports/index.ts';

/** kafkajs message to the port's record shape (headers as UTF-8 strings, offsets as numbers). */
export function toConsumedRecord(message: KafkaMessage, partition: number): ConsumedRecord {
  return {
    key: message.key === null ? null : message.key.toString('utf8'),
    value: message.value ?? new Uint8Array(0),
    headers: decodeHeaders(message.headers),
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
  };
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = typeof first === 'string' ? first : first.toString('utf8');
  }
  return out;
}

/** Splits messages into sends of at most `maxBytes` (approximate, keys + values + headers). */
export function chunkBySize<T extends { key: string | null; value: Uint8Array }>(
  items: readonly T[],
  maxBytes: number,
  maxCount: number,
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = item.value.byteLength + (item.key?.length ?? 0) + 64;
    if (current.length > 0 && (size + bytes > maxBytes || current.length >= maxCount)) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
