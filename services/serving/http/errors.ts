import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RecsysError, isRecsysError, type ErrorCode } from '../../../shared/errors/index.ts';
import { toIssues } from '../../../shared/schemas/index.ts';

/** Fastify's own error codes, as catalogued errors. */
const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
  FST_ERR_BAD_URL: 'VALIDATION_FAILED',
  FST_ERR_ASYNC_CONSTRAINT: 'VALIDATION_FAILED',
};

const BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

/**
 * Turns any error into a catalogued one: our RecsysErrors as they are, fastify's client errors
 * by their code or status, and everything else into a 500 INTERNAL whose details go to the log,
 * never to the client.
 */
export function toRecsysError(error: unknown): RecsysError {
  if (isRecsysError(error)) return error;
  const e = error as Partial<FastifyError> & { status?: number };
  const status = e.statusCode ?? e.status ?? 500;
  if (status >= 400 && status < 500) {
    const code = FASTIFY_CODES[e.code ?? ''] ?? BY_STATUS[status] ?? 'VALIDATION_FAILED';
    const issues = e.validation !== undefined ? toIssues(e.validation as never) : [];
    const where = e.validationContext === undefined ? '' : ` (${e.validationContext})`;
    return new RecsysError(code, {
      message:
        issues.length > 0
          ? `Invalid request${where}: ${issues
              .slice(0, 3)
              .map((i) => `${i.path} ${i.reason}`)
              .join('; ')}.`
          : (e.message ?? '').slice(0, 300) || undefined,
      ...(issues.length > 0 ? { issues } : {}),
      cause: error,
    });
  }
  return new RecsysError('INTERNAL', { cause: error });
}

/** Sends a catalogued error: `{ code, message, issues?, requestId }`, with Retry-After on 503. */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: RecsysError): FastifyReply {
  if (error.status === 503 && !reply.hasHeader('retry-after')) void reply.header('retry-after', '1');
  return reply
    .code(error.status)
    .type('application/json; charset=utf-8')
    .send({ ...error.toJSON(), requestId: request.id });
}

/** Path patterns of the app's routes with their methods (for 405 and its Allow header). */
export class RouteTable {
  readonly #routes: { pattern: RegExp; methods: Set<string> }[] = [];

  add(url: string, method: string): void {
    const source = `^${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '[^/]+')}/?$`;
    let route = this.#routes.find((r) => r.pattern.source === source);
    if (route === undefined) this.#routes.push((route = { pattern: new RegExp(source), methods: new Set() }));
    route.methods.add(method);
    if (method === 'GET') route.methods.add('HEAD');
  }

  /** Methods the path accepts (empty: no such path). */
  methodsOf(path: string): string[] {
    return [...(this.#routes.find((r) => r.pattern.test(path))?.methods ?? [])].sort();
  }
}

export function installErrorHandling(app: FastifyInstance, routes: RouteTable): void {
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.add(route.url, method);
  });
  app.setErrorHandler((error, request, reply) => {
    const recsysError = toRecsysError(error);
    if (recsysError.status >= 500 && recsysError.code === 'INTERNAL') {
      request.log.error({ err: error }, 'unexpected error');
    }
    return sendError(request, reply, recsysError);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const methods = routes.methodsOf(path);
    if (methods.length > 0) {
      void reply.header('allow', methods.join(', '));
      return sendError(
        request,
        reply,
        new RecsysError('METHOD_NOT_ALLOWED', {
          message: `${request.method} is not allowed here; use ${methods.join(', ')}.`,
        }),
      );
    }
    return sendError(
      request,
      reply,
      new RecsysError('ROUTE_NOT_FOUND', {
        message: `No route ${request.method} ${path.slice(0, 200)}; see /openapi.json.`,
      }),
    );
  });
}
