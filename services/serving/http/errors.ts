import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
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
  /** By pattern text (a RegExp's `source` escapes `/`, so it cannot be the key). */
  readonly #routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  add(url: string, method: string): void {
    const source = `^${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '[^/]+')}/?$`;
    let route = this.#routes.get(source);
    if (route === undefined)
      this.#routes.set(source, (route = { pattern: new RegExp(source), methods: new Set() }));
    route.methods.add(method);
    if (method === 'GET') route.methods.add('HEAD');
  }

  /** Methods the path accepts (empty: no such path). */
  methodsOf(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.#routes.values())
      if (route.pattern.test(path)) for (const m of route.methods) methods.add(m);
    return [...methods].sort();
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
  // An unknown method on a known path is a 405 before anything else: fastify would first insist
  // on a content type for methods that may carry a body (QUERY got 400).
  // A callback hook, not an async one: it runs for every request, and makes no promise.
  app.addHook('onRequest', (request, reply, done) => {
    if (request.is404) notFound(request, reply);
    else done();
  });
  app.setNotFoundHandler((request, reply) => notFound(request, reply));

  function notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
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
  }
}

/**
 * Errors Node's HTTP parser raises before fastify sees a request (headers too large, a malformed
 * request line), answered in the catalogue's shape on the raw socket.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy(error);
    return;
  }
  const recsysError =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new RecsysError('HEADERS_TOO_LARGE', {
          message:
            'The request line and headers are larger than the server accepts (16 KiB); send long lists in a POST body.',
        })
      : new RecsysError('VALIDATION_FAILED', { message: 'The request could not be parsed as HTTP.' });
  const body = JSON.stringify({ ...recsysError.toJSON(), requestId: randomUUID() });
  socket.end(
    `HTTP/1.1 ${recsysError.status} ${STATUS_CODES[recsysError.status] ?? 'Bad Request'}\r\n` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
}
