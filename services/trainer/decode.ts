import type { RecsysConfig } from '../../shared/config/index.ts';
import type { DeadLetterRecord, RecordBatch } from '../../shared/ports/index.ts';
import { eventTimeMs, type EventCodec, type InteractionEvent } from '../../shared/schemas/index.ts';

/** A valid event of a batch with where it came from and what it means for the models. */
export interface BatchEvent {
  readonly event: InteractionEvent;
  readonly partition: number;
  readonly offset: number;
  /** When it happened (its timestamp, else when it entered the log). */
  readonly time: number;
  /** When it entered the log: the start of the freshness measurement. */
  readonly loggedAt: number;
  /** From the configured event types: > 0 wants, < 0 does not want. */
  readonly weight: number;
  readonly kind: 'implicit' | 'explicit';
}

/**
 * Splits a batch into valid events and dead letters (with the original bytes and the reason). A
 * bad record never stops the partition: it is data, counted and set aside.
 */
export function decodeBatch(
  batch: RecordBatch,
  codec: EventCodec,
  types: RecsysConfig['events']['types'],
): { events: BatchEvent[]; dead: DeadLetterRecord[] } {
  const events: BatchEvent[] = [];
  const dead: DeadLetterRecord[] = [];
  for (const record of batch.records) {
    const result = codec.decode(record.value);
    if (!result.ok) {
      dead.push({
        key: record.key,
        value: record.value,
        reason: { code: result.error.code, message: result.error.message },
        source: { partition: record.partition, offset: record.offset },
      });
      continue;
    }
    const event = result.value;
    const spec = types[event.type] as { weight: number; kind: 'implicit' | 'explicit' };
    const weight =
      spec.kind === 'explicit'
        ? spec.weight
        : spec.weight * (event.value !== undefined && event.value > 0 ? event.value : 1);
    events.push({
      event,
      partition: record.partition,
      offset: record.offset,
      time: eventTimeMs(event, record.timestamp),
      loggedAt: record.timestamp,
      weight,
      kind: spec.kind,
    });
  }
  return { events, dead };
}
