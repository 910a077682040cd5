import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthReport {
  readonly ok: boolean;
  readonly details: Record<string, unknown>;
}

/**
 * The trainer's small HTTP port: GET /metrics (Prometheus), /healthz (the process is alive and
 * its consumers have not stopped) and /readyz (Kafka and Redis answer). Nothing else.
 */
export async function startOpsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  health: () => HealthReport;
  ready: () => Promise<HealthReport>;
}): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const send = (status: number, type: string, body: string) => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(body);
    };
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET')
      return send(405, 'application/json', JSON.stringify({ code: 'ROUTE_NOT_FOUND', message: 'GET only.' }));
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => send(200, options.registry.contentType, text),
        (error: unknown) => send(500, 'text/plain', String(error)),
      );
      return;
    }
    if (path === '/healthz') {
      const report = options.health();
      return send(
        report.ok ? 200 : 503,
        'application/json',
        JSON.stringify({ status: report.ok ? 'ok' : 'failing', ...report.details }),
      );
    }
    if (path === '/readyz') {
      options.ready().then(
        (report) =>
          send(
            report.ok ? 200 : 503,
            'application/json',
            JSON.stringify({ status: report.ok ? 'ready' : 'not-ready', ...report.details }),
          ),
        () => send(503, 'application/json', JSON.stringify({ status: 'not-ready' })),
      );
      return;
    }
    send(
      404,
      'application/json',
      JSON.stringify({ code: 'ROUTE_NOT_FOUND', message: 'Routes: /metrics, /healthz, /readyz.' }),
    );
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${address.address}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
