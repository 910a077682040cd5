import { Type, type Static } from '@sinclair/typebox';
import { ContextMap, Id } from './common.ts';

/**
 * An interaction event, as applications publish it (DESIGN.md "Contracts users see").
 * `type` is checked against the configured event types by the validator, so the set is extensible.
 */
export const InteractionEventSchema = Type.Object(
  {
    eventId: Type.Optional(Id('Client-chosen unique id; used to de-duplicate and to trace an event.')),
    userId: Id('Who acted. Events are partitioned by user id.'),
    itemId: Id('What they acted on. An unknown item id creates the item.'),
    type: Type.String({
      minLength: 1,
      maxLength: 32,
      pattern: '^[a-z][a-z0-9_]{0,31}$',
      description:
        'One of the configured event types: click, view, like, dislike, purchase, rating, impression.',
    }),
    value: Type.Optional(
      Type.Number({
        minimum: -1e6,
        maximum: 1e6,
        description: 'The rating for `rating` events; an optional weight for the others.',
      }),
    ),
    timestamp: Type.Optional(
      Type.Union(
        [
          Type.Integer({
            minimum: 0,
            maximum: 8_640_000_000_000_000,
            description: 'Milliseconds since the epoch.',
          }),
          Type.String({ format: 'date-time', maxLength: 40, description: 'RFC 3339 date-time.' }),
        ],
        { description: 'When it happened; defaults to the time the event is received.' },
      ),
    ),
    context: Type.Optional(
      ContextMap('Request context: device, hour, dow, and configured fields (locale, page, ...)'),
    ),
  },
  { additionalProperties: false, $id: 'InteractionEvent' },
);

export type InteractionEvent = Static<typeof InteractionEventSchema>;

/** Milliseconds since the epoch of an event, or `fallback` when it carries no timestamp. */
export function eventTimeMs(event: InteractionEvent, fallback: number): number {
  if (event.timestamp === undefined) return fallback;
  return typeof event.timestamp === 'number' ? event.timestamp : Date.parse(event.timestamp);
}
