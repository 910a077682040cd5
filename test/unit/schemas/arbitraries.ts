import fc from 'fast-check';
import type { InteractionEvent } from '../../../shared/schemas/index.ts';
import { LIMITS } from '../../../shared/schemas/index.ts';

/** An id as the schema allows: printable, no surrounding whitespace, within the length limit. */
export const id = fc
  .string({ minLength: 1, maxLength: 40, unit: 'grapheme' })
  .map((s) =>
    [...s]
      .map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? 'x' : c))
      .join('')
      .trim(),
  )
  .filter((s) => s.length > 0 && s.length <= LIMITS.idMaxLength && !/^\s|\s$/.test(s));

const key = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_.:-]{0,20}$/)
  .filter((k) => !['constructor', 'prototype', '__proto__'].includes(k));

// JSON has no negative zero: -0 serializes as 0, which is the same value for every use we make of it.
const finite = fc
  .double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 })
  .map((v) => (v === 0 ? 0 : v));

const scalar = fc.oneof(fc.string({ maxLength: 50 }), finite, fc.boolean());

export const context = fc.dictionary(key, scalar, { maxKeys: 8 });

const timestamp = fc.oneof(
  fc.integer({ min: 0, max: 4_102_444_800_000 }),
  fc
    .date({
      min: new Date('1990-01-01T00:00:00Z'),
      max: new Date('2100-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
);

const implicitTypes = ['click', 'view', 'like', 'dislike', 'purchase', 'impression'] as const;

/** Every valid interaction event under the default event types. */
export const validEvent: fc.Arbitrary<InteractionEvent> = fc.oneof(
  fc.record(
    {
      eventId: id,
      userId: id,
      itemId: id,
      type: fc.constantFrom(...implicitTypes),
      value: finite,
      timestamp,
      context,
    },
    { requiredKeys: ['userId', 'itemId', 'type'] },
  ),
  fc.record(
    { eventId: id, userId: id, itemId: id, type: fc.constant('rating'), value: finite, timestamp, context },
    { requiredKeys: ['userId', 'itemId', 'type', 'value'] },
  ),
);
