import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { SOURCES } from '../../../shared/schemas/api.ts';

/** What /metrics serves: one registry, or the whole cluster's figures (cluster.ts). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** serving.metricsPort: /metrics alone on an internal port. Resolves once listening. */
export async function listenMetricsPort(
  source: MetricsSource,
  host: string,
  port: number,
): Promise<{ readonly server: Server; readonly url: string }> {
  const server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"code":"ROUTE_NOT_FOUND","message":"Only /metrics is served here."}');
      return;
    }
    source.metrics().then(
      (body) => response.writeHead(200, { 'content-type': source.contentType }).end(body),
      (error: Error) =>
        response
          .writeHead(503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ code: 'METRICS_UNAVAILABLE', message: error.message })),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return { server, url: `http://${host}:${(server.address() as AddressInfo).port}` };
}

/**
 * Serving's metrics (docs/operations.md lists each with its meaning). Labels carry the route
 * pattern (`/v1/users/:userId/recommendations`), never a user or item id. With serving.workers > 1
 * /metrics sums counters and histograms over the workers; each gauge says how its workers' values
 * combine (`aggregator`: the worst worker for ages and breaker states, the laggard for versions).
 */
export function createServingMetrics(registry: Registry) {
  const registers = [registry];
  /** Read at scrape time (set by the engine). */
  const probes = { indexAgeSeconds: (): number => 0 };
  return {
    probes,
    requestSeconds: new Histogram({
      name: 'recsys_serving_request_seconds',
      help: 'Time from receiving a request to sending the response, by route pattern.',
      labelNames: ['route', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    responses: new Counter({
      name: 'recsys_serving_responses_total',
      help: 'Responses by route pattern, status code and error code (empty on success).',
      labelNames: ['route', 'status', 'code'],
      registers,
    }),
    itemsServed: new Counter({
      name: 'recsys_serving_items_served_total',
      help: `Recommended items by the source that placed them (${SOURCES.join(', ')}): the cold-start share.`,
      labelNames: ['source'],
      registers,
    }),
    fallbacks: new Counter({
      name: 'recsys_serving_fallback_total',
      help: 'Requests answered without a model: new_user (no rows yet) or degraded (the store could not be read).',
      labelNames: ['reason'],
      registers,
    }),
    events: new Counter({
      name: 'recsys_serving_events_total',
      help: 'Events received on POST /v1/events by outcome: accepted, rejected (invalid) or capped (per-user limit).',
      labelNames: ['outcome'],
      registers,
    }),
    indexItems: new Gauge({
      name: 'recsys_serving_index_items',
      help: 'Items in the in-memory index.',
      registers,
      aggregator: 'min',
    }),
    indexAge: new Gauge({
      name: 'recsys_serving_index_age_seconds',
      help: 'Seconds since the in-memory index last caught up with the change stream.',
      registers,
      aggregator: 'max',
      collect() {
        this.set(probes.indexAgeSeconds());
      },
    }),
    annActive: new Gauge({
      name: 'recsys_serving_ann_active',
      help: '1 while MF candidates come from the HNSW index, 0 for exact scans.',
      registers,
      aggregator: 'min',
    }),
    annBuilds: new Counter({
      name: 'recsys_serving_ann_builds_total',
      help: 'HNSW index builds this process completed (with serving.annShareDir only the builder builds).',
      registers,
    }),
    towerVersion: new Gauge({
      name: 'recsys_serving_neumf_tower_version',
      help: 'Publication of the NeuMF tower in use (0: re-ranking off).',
      registers,
      aggregator: 'min',
    }),
    neumfShare: new Gauge({
      name: 'recsys_serving_neumf_share',
      help: "NeuMF's weight against MF's in re-ranking, from the models' live HR@10 (2: full, 0: off).",
      registers,
      aggregator: 'average',
    }),
    breaker: new Gauge({
      name: 'recsys_serving_store_circuit_state',
      help: 'Circuit breaker in front of the model store: 0 closed, 1 half-open, 2 open.',
      registers,
      aggregator: 'max',
    }),
    refreshSeconds: new Histogram({
      name: 'recsys_serving_refresh_seconds',
      help: 'Time of one incremental refresh of the in-memory index.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    }),
    storeSeconds: new Histogram({
      name: 'recsys_serving_store_seconds',
      help: 'Latency of model store (Redis) reads on the request path, by operation and outcome.',
      labelNames: ['operation', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    }),
    produceSeconds: new Histogram({
      name: 'recsys_serving_produce_seconds',
      help: 'Latency of producing ingested events to the event log (Kafka), per request.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    refreshErrors: new Counter({
      name: 'recsys_serving_refresh_errors_total',
      help: 'Failed refreshes of the in-memory index (it keeps serving what it has).',
      registers,
    }),
  };
}

export type ServingMetrics = ReturnType<typeof createServingMetrics>;

/** Exports the labelled counters at 0 before anything happened (a zero, not "no data"). */
export function initServingSeries(metrics: ServingMetrics): void {
  for (const source of SOURCES) metrics.itemsServed.inc({ source }, 0);
  for (const reason of ['new_user', 'degraded']) metrics.fallbacks.inc({ reason }, 0);
  for (const outcome of ['accepted', 'rejected', 'capped']) metrics.events.inc({ outcome }, 0);
}
