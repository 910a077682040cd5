import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { RecsysError, isRecsysError } from '../../../shared/errors/index.ts';
import type { EventLog, LogRecord } from '../../../shared/ports/index.ts';
import { API_LIMITS, ErrorResponse, EventsResponse } from '../../../shared/schemas/api.ts';
import { InteractionEventSchema, type EventCodec } from '../../../shared/schemas/index.ts';
import type { ServingMetrics } from '../process/metrics.ts';
import type { WindowedCap } from '../../../shared/model/windowed-cap.ts';
import { routeSchema } from './schema-doc.ts';

export interface EventRoutesDeps {
  readonly eventLog: EventLog;
  readonly codec: EventCodec;
  /** Events per user per minute, counted at arrival (wall clock). */
  readonly cap: WindowedCap;
  readonly metrics: ServingMetrics;
  readonly clock?: () => number;
}

const EventsQuery = routeSchema(
  Type.Object(
    {
      import: Type.Optional(
        Type.Boolean({
          description:
            'An import of history: the per-user cap of live traffic (serving.userEventsPerMinute) does not apply.',
        }),
      ),
    },
    { additionalProperties: false },
  ),
);

/**
 * Documented body (validated per event in the handler, so one bad event does not fail a batch),
 * with the configured event types as the enum of `type`.
 */
function eventsBodyDoc(types: readonly string[]) {
  const event = routeSchema(InteractionEventSchema);
  const eventSchema = {
    ...event,
    properties: { ...event.properties, type: { ...event.properties.type, enum: [...types] } },
  };
  return Type.Union([
    eventSchema,
    Type.Array(eventSchema, { minItems: 1, maxItems: API_LIMITS.maxBatchEvents }),
  ]);
}

/**
 * Event ingest: one event or a batch, validated one by one; the valid ones are appended to the
 * event log (Kafka, or the embedded log) keyed by user id, the invalid ones are reported by index
 * with their code. A user over the per-minute cap has their events refused with RATE_LIMITED.
 */
export function registerEventRoutes(app: FastifyInstance, deps: EventRoutesDeps): void {
  const { eventLog, codec, cap, metrics } = deps;
  const clock = deps.clock ?? Date.now;

  app.post(
    '/v1/events',
    {
      config: { access: 'write' },
      // Validation happens per event below; the route's body schema only documents it.
      validatorCompiler: () => () => true,
      schema: {
        summary: `Publish interaction events: one, or a batch of up to ${API_LIMITS.maxBatchEvents}`,
        tags: ['events'],
        body: eventsBodyDoc(codec.types),
        querystring: EventsQuery,
        response: {
          202: routeSchema(EventsResponse),
          400: routeSchema(ErrorResponse),
          429: routeSchema(ErrorResponse),
          503: routeSchema(ErrorResponse),
        },
      },
    },
    async (request, reply) => {
      const body: unknown = request.body;
      const single = !Array.isArray(body);
      if (!single && (body.length === 0 || body.length > API_LIMITS.maxBatchEvents)) {
        throw new RecsysError('VALIDATION_FAILED', {
          message: `A batch holds 1 to ${API_LIMITS.maxBatchEvents} events; this one has ${body.length}.`,
          issues: [{ path: '/', reason: `must hold 1 to ${API_LIMITS.maxBatchEvents} events` }],
        });
      }
      const events: unknown[] = single ? [body] : body;
      // An import of history (behind the write key like every write) is not a flood: the
      // per-user cap at the door is for live traffic. The trainer's cap still judges event time.
      // (The route's validator is off, so the query is checked here.)
      const flag = (request.query as { import?: unknown }).import;
      if (flag !== undefined && flag !== 'true' && flag !== 'false') {
        throw new RecsysError('VALIDATION_FAILED', {
          message: 'import must be true or false.',
          issues: [{ path: '/import', reason: 'must be true or false' }],
        });
      }
      const capped = flag !== 'true';
      const now = clock();
      const records: LogRecord[] = [];
      const errors: {
        index: number;
        code: string;
        message: string;
        issues?: { path: string; reason: string }[];
      }[] = [];
      events.forEach((value, index) => {
        const result = codec.validate(value);
        if (!result.ok) {
          errors.push({ index, ...result.error.toJSON(), issues: [...result.error.issues] });
          metrics.events.inc({ outcome: 'rejected' });
          return;
        }
        const event = result.value;
        if (capped && !cap.take(event.userId, now)) {
          errors.push({
            index,
            code: 'RATE_LIMITED',
            message: `User ${JSON.stringify(event.userId).slice(0, 80)} sent more events this minute than serving.userEventsPerMinute allows.`,
          });
          metrics.events.inc({ outcome: 'capped' });
          return;
        }
        records.push({ key: event.userId, value: codec.encode(event), timestamp: now });
      });
      if (single && errors.length > 0) {
        const only = errors[0] as (typeof errors)[number];
        if (only.code === 'RATE_LIMITED') {
          void reply.header('retry-after', String(cap.retryAfterSeconds(now)));
          throw new RecsysError('RATE_LIMITED', { message: only.message });
        }
        throw new RecsysError(only.code as 'EVENT_INVALID', {
          message: only.message,
          issues: only.issues ?? [],
        });
      }
      if (records.length > 0) {
        try {
          const started = performance.now();
          await eventLog.append(records);
          metrics.produceSeconds.observe((performance.now() - started) / 1000);
        } catch (error) {
          if (isRecsysError(error) && error.status === 503) throw error;
          if (error instanceof TypeError || error instanceof RangeError) throw error;
          throw new RecsysError('LOG_UNAVAILABLE', {
            message: 'The event log did not accept the events; none of this request was published. Retry.',
            cause: error,
          });
        }
        metrics.events.inc({ outcome: 'accepted' }, records.length);
      }
      return reply
        .code(202)
        .send({ accepted: records.length, rejected: errors.length, errors, requestId: request.id });
    },
  );
}
