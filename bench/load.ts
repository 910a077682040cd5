import autocannon, { type Request } from 'autocannon';

/**
 * The load generator of `recsys bench serving`, run as its own process (so it does not share the
 * serving process's event loop): autocannon against one route with randomised users, contexts
 * and event batches. Prints one JSON line with the figures.
 *
 *   node bench/load.ts '{"url":"http://127.0.0.1:8080","kind":"recommend","users":100000,...}'
 */
export interface LoadOptions {
  readonly url: string;
  readonly kind: 'recommend' | 'events';
  readonly users: number;
  readonly items: number;
  readonly connections: number;
  readonly durationSeconds: number;
  /** Requests per second for all connections (open throttle); omitted: as fast as possible. */
  readonly rate?: number;
  /** Events per POST /v1/events request. */
  readonly batch?: number;
}

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
}

const DEVICES = ['mobile', 'desktop', 'tv', 'tablet'];

function randomInt(n: number): number {
  return Math.floor(Math.random() * n);
}

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const recommend: Request = {
    method: 'GET',
    setupRequest: (request: Request) => {
      request.path = `/v1/users/u${randomInt(options.users)}/recommendations?k=10&device=${DEVICES[randomInt(4)]}&hour=${randomInt(24)}`;
      return request;
    },
  };
  const events: Request = {
    method: 'POST',
    path: '/v1/events',
    headers: { 'content-type': 'application/json' },
    setupRequest: (request: Request) => {
      const batch = Array.from({ length: options.batch ?? 100 }, () => ({
        userId: `u${randomInt(options.users)}`,
        itemId: `i${randomInt(options.items)}`,
        type: 'click',
        context: { device: DEVICES[randomInt(4)] as string },
      }));
      request.body = JSON.stringify(batch);
      return request;
    },
  };
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationSeconds,
        ...(options.rate === undefined ? {} : { overallRate: options.rate }),
        requests: [options.kind === 'recommend' ? recommend : events],
        timeout: 10,
      },
      (error, result) => {
        if (error !== null && error !== undefined) {
          reject(error as Error);
          return;
        }
        resolve({
          requestsPerSecond: result.requests.average,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          maxMs: result.latency.max,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
        });
      },
    );
  });
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
  runLoad(options).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`load failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
}
