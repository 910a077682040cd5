import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';

const DIR = join(import.meta.dirname, '..', 'demo');
const FILES = [
  { url: '/', file: 'index.html', type: 'text/html; charset=utf-8' },
  { url: '/demo/demo.js', file: 'demo.js', type: 'text/javascript; charset=utf-8' },
  { url: '/demo/demo.css', file: 'demo.css', type: 'text/css; charset=utf-8' },
] as const;

/**
 * The demo page (static files read once at start, no build step): pick a user and a context,
 * see recommendations with their source, click items and watch the list and the live metrics
 * change. It calls the public API like any client; with API keys configured its calls need them.
 */
export function registerDemoRoutes(app: FastifyInstance): void {
  for (const { url, file, type } of FILES) {
    const body = readFileSync(join(DIR, file));
    app.get(url, { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type(type)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header(
          'content-security-policy',
          "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'",
        )
        .send(body),
    );
  }
}
