import { RecsysError } from '../errors/index.ts';
import type { InteractionEvent } from './event.ts';
import { InteractionEventSchema } from './event.ts';
import { createValidator, decodeUtf8, describeIssues, parseJson, type Result } from './parse.ts';

export interface EventCodecOptions {
  /** Accepted event types (the keys of config.events.types) and whether each is a rating. */
  readonly types: Readonly<Record<string, { readonly kind: 'implicit' | 'explicit' }>>;
  /** Largest accepted serialized event in bytes. */
  readonly maxBytes: number;
}

export interface EventCodec {
  /** The accepted event types, sorted. */
  readonly types: readonly string[];
  /** Validates a value that is already an object (from an HTTP body or a JS caller). */
  validate(value: unknown): Result<InteractionEvent>;
  /** Parses and validates the bytes of one event, as they arrive from the event log. */
  decode(bytes: Uint8Array | string): Result<InteractionEvent>;
  /** The bytes written to the event log. decode(encode(e)) deep-equals e for every valid e. */
  encode(event: InteractionEvent): Buffer;
}

/** Builds the codec for interaction events under the configured event types. */
export function createEventCodec(options: EventCodecOptions): EventCodec {
  const base = createValidator<InteractionEvent>(InteractionEventSchema, 'EVENT_INVALID', 'event');
  const typeList = Object.keys(options.types).sort();

  const validate = (value: unknown): Result<InteractionEvent> => {
    const result = base(value);
    if (!result.ok) return result;
    const event = result.value;
    const spec = options.types[event.type];
    if (spec === undefined || !Object.hasOwn(options.types, event.type)) {
      return invalid('/type', `must be one of ${typeList.join(', ')} (got "${event.type}")`);
    }
    if (spec.kind === 'explicit' && event.value === undefined) {
      return invalid('/value', `is required for "${event.type}" events (the rating)`);
    }
    return result;
  };

  return {
    types: typeList,
    validate,
    decode(bytes) {
      const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
      if (size > options.maxBytes) {
        return {
          ok: false,
          error: new RecsysError('PAYLOAD_TOO_LARGE', {
            message: `The event is ${size} bytes; the limit is ${options.maxBytes} (events.maxBytes).`,
            issues: [{ path: '/', reason: `is larger than ${options.maxBytes} bytes` }],
          }),
        };
      }
      const text = typeof bytes === 'string' ? { ok: true as const, value: bytes } : decodeUtf8(bytes);
      if (!text.ok) return text;
      const parsed = parseJson(text.value);
      return parsed.ok ? validate(parsed.value) : parsed;
    },
    encode(event) {
      return Buffer.from(JSON.stringify(event));
    },
  };
}

function invalid(path: string, reason: string): Result<never> {
  const issues = [{ path, reason }];
  return {
    ok: false,
    error: new RecsysError('EVENT_INVALID', { message: describeIssues('event', issues), issues }),
  };
}
