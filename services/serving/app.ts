import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TSchema } from '@sinclair/typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { RecsysConfig } from '../../shared/config/index.ts';
import { RecsysError } from '../../shared/errors/index.ts';
import type { Logger } from '../../shared/observability/index.ts';
import type { EventLog } from '../../shared/ports/index.ts';
import { createEventCodec, createValidator, decodeUtf8, parseJson } from '../../shared/schemas/index.ts';
import type { MetricsSource } from './process/metrics.ts';
import type { ServingEngine } from './engine.ts';
import { ApiKeys, type Access } from './http/auth.ts';
import { registerCatalogRoutes } from './http/catalog-routes.ts';
import { registerDemoRoutes } from './http/demo-routes.ts';
import {
  RouteTable,
  clientErrorHandler,
  installErrorHandling,
  sendError,
  toRecsysError,
} from './http/errors.ts';
import { registerEventRoutes } from './http/event-routes.ts';
import { registerOpsRoutes } from './http/ops-routes.ts';
import { registerRecommendationRoutes } from './http/recommendation-routes.ts';
import type { ServingMetrics } from './process/metrics.ts';
import { WindowedCap } from '../../shared/model/windowed-cap.ts';

export interface ServingAppDeps {
  readonly config: RecsysConfig;
  readonly engine: ServingEngine;
  readonly eventLog: EventLog;
  /** What /metrics serves: this process's registry, or the cluster's figures in a worker. */
  readonly registry: MetricsSource;
  readonly metrics: ServingMetrics;
  readonly logger: Logger;
  readonly clock?: () => number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which API key the route needs (see http/auth.ts). */
    access?: Access;
  }
}

/**
 * The serving HTTP API as a fastify instance, not listening: main.ts listens, tests inject.
 * Every input is schema-checked; every error leaves as `{ code, message, issues?, requestId }`
 * with the catalogued status; nothing a client sends can produce a 5xx.
 */
export async function buildServingApp(deps: ServingAppDeps): Promise<FastifyInstance> {
  const { config, engine, metrics } = deps;
  const serving = config.serving;
  const routes = new RouteTable();
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: serving.bodyLimitBytes,
    requestTimeout: serving.requestTimeoutMs,
    connectionTimeout: serving.requestTimeoutMs,
    routerOptions: { maxParamLength: 2_400, ignoreTrailingSlash: true },
    return503OnClosing: true,
    frameworkErrors: (error, request, reply) => sendError(request, reply, toRecsysError(error)),
    clientErrorHandler,
  });

  // JSON only: strict UTF-8 (bad bytes are refused, not replaced), parsed without letting
  // __proto__ or constructor.prototype through. An empty body is no body where a method takes
  // none (many clients send the JSON content type on every request, a DELETE included); on POST
  // and PUT it is malformed JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0 && request.method !== 'POST' && request.method !== 'PUT')
      return done(null, undefined);
    const text = decodeUtf8(bytes);
    const result = text.ok ? parseJson(text.value) : text;
    if (result.ok) done(null, result.value);
    else done(result.error, undefined);
  });
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const part = httpPart ?? 'input';
    const validate = createValidator(schema as TSchema, 'VALIDATION_FAILED', part, part !== 'body');
    return (data: unknown) => {
      const result = validate(data);
      return result.ok ? { value: result.value } : { error: result.error };
    };
  });
  installErrorHandling(app, routes);

  const keys = new ApiKeys(serving.writeApiKeys, serving.readApiKeys, serving.openWrites);
  deps.logger.info(
    {
      ...keys.describe(),
      metrics: serving.metricsPort > 0 ? 'open, on serving.metricsPort only' : keys.describe().reads,
    },
    'API access',
  );
  if (serving.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: [...serving.corsOrigins],
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['content-type', 'x-api-key', 'authorization'],
    });
  }
  if (serving.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      max: serving.rateLimitPerMinute,
      timeWindow: 60_000,
      cache: 100_000,
      keyGenerator: (request) => {
        const principal = keys.identify(request);
        return principal === undefined ? `ip:${request.ip}` : `key:${principal.keyId}`;
      },
      allowList: (request) => /^\/(healthz|readyz|metrics)\b/.test(request.url),
      errorResponseBuilder: (_request, context) =>
        new RecsysError('RATE_LIMITED', {
          message: `More than ${context.max} requests a minute; retry after ${context.after}.`,
        }),
    });
  }
  app.addHook('preParsing', async (request) => {
    keys.authorize(request, request.routeOptions.config.access ?? 'open');
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requestSeconds.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    const code = reply.statusCode >= 400 ? String(reply.getHeader('x-recsys-error') ?? '') : '';
    metrics.responses.inc({ route, status: String(reply.statusCode), code });
  });
  app.addHook('onSend', async (request, reply, payload) => {
    void reply.header('x-request-id', request.id);
    if (reply.statusCode >= 400 && typeof payload === 'string' && payload.startsWith('{"code":"')) {
      const code = /^\{"code":"([A-Z_]+)"/.exec(payload)?.[1];
      if (code !== undefined) void reply.header('x-recsys-error', code);
    }
    return payload;
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'recsys serving API',
        version: '1',
        description:
          'Streaming, online-learning recommendations: top-k for a user with request context, similar and popular items, the catalog, and event ingest. Errors are `{ code, message, issues?, requestId }` (docs/errors.md).',
      },
      components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } } },
      security: serving.writeApiKeys.length + serving.readApiKeys.length > 0 ? [{ apiKey: [] }] : [],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  registerRecommendationRoutes(app, {
    engine,
    metrics,
    filterSeenDefault: Object.values(config.events.types).some((t) => t.kind === 'implicit'),
  });
  registerCatalogRoutes(app, engine);
  registerEventRoutes(app, {
    eventLog: deps.eventLog,
    codec: createEventCodec({ types: config.events.types, maxBytes: config.events.maxBytes }),
    cap: new WindowedCap(serving.userEventsPerMinute),
    metrics,
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
  });
  registerOpsRoutes(app, {
    engine,
    eventLog: deps.eventLog,
    registry: deps.registry,
    metricsOnThisPort: serving.metricsPort === 0,
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  registerDemoRoutes(app);
  await app.ready();
  return app;
}
