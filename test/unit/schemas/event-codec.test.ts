import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../shared/config/index.ts';
import { RecsysError } from '../../../shared/errors/index.ts';
import { createEventCodec, type InteractionEvent } from '../../../shared/schemas/index.ts';
import { validEvent } from './arbitraries.ts';

const codec = createEventCodec({ types: defaultConfig().events.types, maxBytes: 16_384 });
const VALIDATION_CODES = ['EVENT_INVALID', 'MALFORMED_JSON', 'FORBIDDEN_KEY', 'PAYLOAD_TOO_LARGE'];

function rejection(input: unknown): RecsysError {
  const result =
    typeof input === 'string' || input instanceof Uint8Array ? codec.decode(input) : codec.validate(input);
  if (result.ok) throw new Error(`expected a rejection of ${JSON.stringify(input)}`);
  return result.error;
}

const base = { userId: 'u1', itemId: 'i1', type: 'click' };

describe('event codec', () => {
  it('round-trips every valid event through encode and decode unchanged', () => {
    fc.assert(
      fc.property(validEvent, (event) => {
        const decoded = codec.decode(codec.encode(event));
        expect(decoded.ok).toBe(true);
        expect((decoded as { value: InteractionEvent }).value).toEqual(event);
      }),
      { numRuns: 2_000 },
    );
  });

  it('never throws on garbage: every rejection is a catalogued validation error', () => {
    const check = (input: unknown): void => {
      let result;
      try {
        result =
          typeof input === 'string' || input instanceof Uint8Array
            ? codec.decode(input)
            : codec.validate(input);
      } catch (error) {
        throw new Error(`threw ${String(error)} for ${String(input)}`);
      }
      if (!result.ok) {
        expect(result.error).toBeInstanceOf(RecsysError);
        expect(VALIDATION_CODES).toContain(result.error.code);
        expect(result.error.issues.length).toBeGreaterThan(0);
      }
    };
    fc.assert(
      fc.property(fc.anything({ withObjectString: true, withNullPrototype: true, withBigInt: true }), check),
      { numRuns: 3_000 },
    );
    fc.assert(fc.property(fc.string({ maxLength: 300 }), check), { numRuns: 3_000 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), check), { numRuns: 2_000 });
    fc.assert(fc.property(fc.json({ maxDepth: 6 }), check), { numRuns: 2_000 });
    // Near misses: a valid event with one field replaced by anything.
    fc.assert(
      fc.property(
        validEvent,
        fc.constantFrom('userId', 'itemId', 'type', 'value', 'timestamp', 'context', 'eventId', 'extra'),
        fc.anything(),
        (event, field, junk) => {
          check(JSON.stringify({ ...event, [field]: junk }) ?? '');
          check({ ...event, [field]: junk });
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('rejects unknown fields with their name', () => {
    const error = rejection({ ...base, colour: 'red' });
    expect(error.code).toBe('EVENT_INVALID');
    expect(error.issues).toContainEqual({ path: '/', reason: 'unknown field "colour"' });
  });

  it('rejects __proto__ and constructor keys anywhere, and pollutes nothing', () => {
    expect(rejection('{"userId":"u","itemId":"i","type":"click","__proto__":{"polluted":true}}').code).toBe(
      'FORBIDDEN_KEY',
    );
    expect(
      rejection(
        '{"userId":"u","itemId":"i","type":"click","context":{"constructor":{"prototype":{"polluted":true}}}}',
      ).code,
    ).toBe('FORBIDDEN_KEY');
    expect(rejection({ ...base, context: JSON.parse('{"__proto__": {"polluted": true}}') }).code).toBe(
      'FORBIDDEN_KEY',
    );
    expect(rejection({ ...base, context: { prototype: 'x' } }).code).toBe('FORBIDDEN_KEY');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('rejects non-finite numbers, which JSON can smuggle in as 1e400', () => {
    const error = rejection('{"userId":"u","itemId":"i","type":"rating","value":1e400}');
    expect(error.issues[0]).toEqual({
      path: '/value',
      reason: 'must be a finite number (NaN and Infinity are not allowed)',
    });
    expect(rejection({ ...base, value: Number.NaN }).code).toBe('EVENT_INVALID');
    expect(rejection({ ...base, context: { score: Number.NEGATIVE_INFINITY } }).issues[0]?.path).toBe(
      '/context/score',
    );
  });

  it('enforces size limits on ids, maps and the whole event', () => {
    expect(rejection({ ...base, userId: 'u'.repeat(257) }).issues[0]?.path).toBe('/userId');
    const bigContext = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
    expect(rejection({ ...base, context: bigContext }).issues[0]?.path).toBe('/context');
    expect(rejection({ ...base, context: { page: 'p'.repeat(257) } }).issues[0]?.path).toBe('/context/page');
    expect(rejection(JSON.stringify({ ...base, context: { a: 'x'.repeat(20_000) } })).code).toBe(
      'PAYLOAD_TOO_LARGE',
    );
  });

  it('checks the type against the configured types and requires a value for ratings', () => {
    expect(rejection({ ...base, type: 'clik' }).message).toContain(
      'must be one of click, dislike, impression, like, purchase, rating, view',
    );
    expect(rejection({ ...base, type: 'rating' }).issues).toEqual([
      { path: '/value', reason: 'is required for "rating" events (the rating)' },
    ]);
    const custom = createEventCodec({ types: { share: { kind: 'implicit' } }, maxBytes: 1024 });
    expect(custom.validate({ ...base, type: 'share' }).ok).toBe(true);
    expect(custom.validate({ ...base, type: 'click' }).ok).toBe(false);
    expect(custom.validate({ ...base, type: 'toString' }).ok).toBe(false);
  });

  it('names the field and reason for wrong types, control characters and bad timestamps', () => {
    expect(rejection({ ...base, userId: 42 }).issues[0]).toEqual({
      path: '/userId',
      reason: 'must be string',
    });
    expect(rejection({ ...base, itemId: 'a\u0000b' }).issues[0]?.path).toBe('/itemId');
    expect(rejection({ ...base, timestamp: 'yesterday' }).issues[0]?.path).toBe('/timestamp');
    expect(rejection({ itemId: 'i', type: 'click' }).issues[0]).toEqual({
      path: '/',
      reason: 'missing required field "userId"',
    });
    expect(rejection(Buffer.from([0xff, 0xfe, 0x7b])).code).toBe('MALFORMED_JSON');
  });
});
