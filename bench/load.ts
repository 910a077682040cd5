import autocannon, { type Request } from 'autocannon';
import { Client } from 'undici';

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
  /**
   * With `rate`: send on an even schedule (open loop) instead of autocannon's throttle, which lets
   * each connection send its per-second quota back to back at the start of every second (a burst
   * of `connections` requests each second: its latencies are the time to drain the burst).
   * Latency runs from the moment a request is handed to the client (so time queued for a busy
   * connection counts: a server that falls behind shows it), not from its scheduled time: on a
   * machine where the generator competes for the cores, its own timer lag is not the server's
   * latency. That lag is reported apart (senderLagP99Ms).
   */
  readonly paced?: boolean;
  /**
   * Paced runs: seconds sent at the same rate on the same connections before the measured
   * `durationSeconds`, and not counted (default 1). A freshly started generator opens its
   * connections and runs its own code unoptimised at first: without this, its first ~0.4 s read
   * 50 - 300 ms per request while the server's own latency histogram stays low (measured
   * 2026-11-30; wrk2 discards its calibration period the same way).
   */
  readonly warmupSeconds?: number;
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
  /** Paced runs: how late the generator itself sent (its own CPU starvation), p99. */
  readonly senderLagP99Ms?: number;
}

const DEVICES = ['mobile', 'desktop', 'tv', 'tablet'];

function randomInt(n: number): number {
  return Math.floor(Math.random() * n);
}

function recommendPath(options: LoadOptions): string {
  return `/v1/users/u${randomInt(options.users)}/recommendations?k=10&device=${DEVICES[randomInt(4)]}&hour=${randomInt(24)}`;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

/**
 * Recommendation requests at `rate` per second on an even schedule over `connections` connections,
 * taken in turn (the next idle one after the last used; all busy: the next in turn queues it), as
 * many independent clients would spread them. Not undici's Pool: it hands each request to the
 * first idle connection and opens more only when all are busy, so at a moderate rate a few
 * connections carry nearly everything, and a server with several processes behind one port
 * (connections handed out round-robin, as with serving.workers) gets them unevenly.
 */
async function runPaced(options: LoadOptions): Promise<LoadResult> {
  const rate = options.rate ?? 1_000;
  const clients = Array.from(
    { length: Math.max(1, options.connections) },
    () => new Client(options.url, { pipelining: 1 }),
  );
  const busy = new Int32Array(clients.length);
  let turn = 0;
  const nextClient = (): number => {
    for (let tried = 0; tried < clients.length; tried++) {
      const c = (turn + tried) % clients.length;
      if (busy[c] === 0) {
        turn = (c + 1) % clients.length;
        return c;
      }
    }
    const c = turn;
    turn = (turn + 1) % clients.length;
    return c;
  };
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  const inflight = new Set<Promise<void>>();
  const started = performance.now();
  // The measured window follows the warm-up on the same schedule: only requests sent in it count.
  const measuredFrom = started + (options.warmupSeconds ?? 1) * 1_000;
  const end = measuredFrom + options.durationSeconds * 1_000;
  const lateness: number[] = [];
  const send = (scheduled: number) => {
    const sentAt = performance.now();
    const counted = scheduled >= measuredFrom;
    if (counted) lateness.push(sentAt - scheduled);
    const c = nextClient();
    busy[c] = (busy[c] as number) + 1;
    const task = (clients[c] as Client)
      .request({ method: 'GET', path: recommendPath(options) })
      .then(async (res) => {
        await res.body.dump();
        if (!counted) return;
        if (res.statusCode >= 200 && res.statusCode < 300) ok++;
        else non2xx++;
        latencies.push(performance.now() - sentAt);
      })
      .catch(() => {
        if (counted) errors++;
      })
      .finally(() => {
        busy[c] = (busy[c] as number) - 1;
        inflight.delete(task);
      });
    inflight.add(task);
  };
  // Every millisecond or so, send what the schedule says is due (each with its scheduled time).
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - started) * rate) / 1_000);
    for (; sent < due; sent++) send(started + (sent * 1_000) / rate);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inflight);
  const seconds = (performance.now() - measuredFrom) / 1_000;
  await Promise.all(clients.map((client) => client.close()));
  const sorted = Float64Array.from(latencies).sort();
  const late = Float64Array.from(lateness).sort();
  return {
    senderLagP99Ms: Math.round(percentile(late, 0.99) * 10) / 10,
    requestsPerSecond: Math.round(ok / seconds),
    p50Ms: Math.round(percentile(sorted, 0.5) * 10) / 10,
    p99Ms: Math.round(percentile(sorted, 0.99) * 10) / 10,
    maxMs: Math.round((sorted[sorted.length - 1] ?? 0) * 10) / 10,
    ok,
    non2xx,
    errors,
    timeouts: 0,
  };
}

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.paced === true && options.rate !== undefined && options.kind === 'recommend')
    return runPaced(options);
  const recommend: Request = {
    method: 'GET',
    setupRequest: (request: Request) => {
      request.path = recommendPath(options);
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
