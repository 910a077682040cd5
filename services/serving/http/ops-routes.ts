import type { FastifyInstance } from 'fastify';
import { RecsysError } from '../../../shared/errors/index.ts';
import { probe } from '../../../shared/observability/index.ts';
import type { EventLog } from '../../../shared/ports/index.ts';
import type { MetricsSource } from '../process/metrics.ts';
import type { ServingEngine } from '../engine.ts';
import { sendError } from './errors.ts';

export interface OpsRoutesDeps {
  readonly engine: ServingEngine;
  readonly eventLog: EventLog;
  readonly registry: MetricsSource;
  /** Serve /metrics here (false when serving.metricsPort moves it to an internal port). */
  readonly metricsOnThisPort: boolean;
}

/** How long a log ping result is reused by /readyz (probes come often). */
const PING_CACHE_MS = 1_000;

/** /healthz (the process answers), /readyz (it can serve well), /metrics (Prometheus). */
export function registerOpsRoutes(app: FastifyInstance, deps: OpsRoutesDeps): void {
  const { engine, eventLog } = deps;
  let logPing = { at: 0, ok: false };
  let storePing = { at: 0, ok: false };

  const cached = async (state: { at: number; ok: boolean }, ping: () => Promise<boolean>) => {
    if (Date.now() - state.at < PING_CACHE_MS) return state;
    const ok = await probe(ping);
    return { at: Date.now(), ok };
  };

  app.get(
    '/healthz',
    { schema: { summary: 'Liveness: the process answers', tags: ['operations'] } },
    async () => ({
      status: 'ok',
    }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Readiness: index loaded, model store and event log reachable',
        tags: ['operations'],
      },
    },
    async (request, reply) => {
      [logPing, storePing] = await Promise.all([
        cached(logPing, () => eventLog.ping()),
        cached(storePing, () => engine.guard.call('ping', () => engine.store.ping())),
      ]);
      const reasons = engine.notReadyReasons();
      if (!storePing.ok && !reasons.some((r) => r.includes('store')))
        reasons.push('the model store does not answer');
      if (!logPing.ok) reasons.push('the event log does not answer');
      if (reasons.length === 0) return { ready: true, items: engine.index.size };
      return sendError(
        request,
        reply,
        new RecsysError('NOT_READY', { message: `Not ready: ${reasons.join('; ')}.` }),
      );
    },
  );

  if (deps.metricsOnThisPort) {
    // Behind the read keys like every read route (figures reveal traffic and catalog size); a
    // Prometheus without keys scrapes serving.metricsPort instead, an internal port.
    app.get('/metrics', { config: { access: 'read' }, schema: { hide: true } }, async (request, reply) => {
      let body: string;
      try {
        body = await deps.registry.metrics();
      } catch (error) {
        // A cluster worker asks the primary, which asks every worker: one can be too busy to answer.
        return sendError(
          request,
          reply,
          new RecsysError('METRICS_UNAVAILABLE', { message: (error as Error).message, cause: error }),
        );
      }
      return reply.type(deps.registry.contentType).send(body);
    });
  }
}
