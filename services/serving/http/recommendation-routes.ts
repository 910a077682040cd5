import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../../../shared/model/context.ts';
import {
  ErrorResponse,
  ItemIdParams,
  ItemsResponse,
  PopularQuery,
  RecommendationsQuery,
  RecommendationsRequest,
  RecommendationsResponse,
  SimilarQuery,
  UserIdParams,
  RECOMMENDATION_QUERY_KEYS,
} from '../../../shared/schemas/api.ts';
import { RecsysError } from '../../../shared/errors/index.ts';
import type { ServingEngine } from '../engine.ts';
import type { ServingMetrics } from '../process/metrics.ts';
import type { RecommendRequest, Recommendation } from '../ranking/recommender.ts';
import { routeSchema } from './schema-doc.ts';

export interface RecommendationRoutesDeps {
  readonly engine: ServingEngine;
  readonly metrics: ServingMetrics;
  /** Default of filterSeen: on when any configured event type is implicit feedback. */
  readonly filterSeenDefault: boolean;
}

const QUERY_KEYS = new Set(RECOMMENDATION_QUERY_KEYS);
const errors = { 400: routeSchema(ErrorResponse), 503: routeSchema(ErrorResponse) };

/** Context from query keys other than the route's own: numbers where they look like numbers. */
function contextFromQuery(query: Record<string, unknown>): Context | undefined {
  const context: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(query)) {
    if (QUERY_KEYS.has(key)) continue;
    if (typeof value === 'number') context[key] = value;
    else if (typeof value === 'string')
      context[key] = /^-?\d{1,15}(\.\d{1,15})?$/.test(value) ? Number(value) : value;
  }
  return Object.keys(context).length > 0 ? context : undefined;
}

/** Recommendations, popular items and similar items. */
export function registerRecommendationRoutes(app: FastifyInstance, deps: RecommendationRoutesDeps): void {
  const { engine, metrics } = deps;
  // Nothing is ranked from a half-loaded state: during the first load requests wait for it.
  // Once ready (every request but the first few), no promise is made on the request path.
  const waitReady = (_request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
    if (engine.ready) done();
    else engine.whenReady().then(() => done(), done);
  };

  const answer = (reply: FastifyReply, userId: string, result: Recommendation, requestId: string) => {
    for (const item of result.items) metrics.itemsServed.inc({ source: item.source });
    if (result.fallback !== 'none') metrics.fallbacks.inc({ reason: result.fallback });
    if (result.fallback === 'degraded') void reply.header('x-recsys-degraded', '1');
    return {
      userId,
      items: result.items,
      modelVersion: result.modelVersion,
      requestId,
      resultId: result.resultId,
    };
  };

  app.post(
    '/v1/recommendations',
    {
      config: { access: 'read' },
      preHandler: waitReady,
      schema: {
        summary: 'Top-k recommendations for a user, with request context',
        tags: ['recommendations'],
        body: routeSchema(RecommendationsRequest),
        response: { 200: routeSchema(RecommendationsResponse), ...errors, 410: routeSchema(ErrorResponse) },
      },
    },
    async (request, reply) => {
      const body = request.body as RecommendationsRequest;
      const result = await engine.recommender.recommend(toRequest(body, deps.filterSeenDefault));
      return answer(reply, body.userId, result, request.id);
    },
  );

  app.get(
    '/v1/users/:userId/recommendations',
    {
      config: { access: 'read' },
      preHandler: waitReady,
      schema: {
        summary: 'Top-k recommendations for a user (context as extra query parameters: device, hour, ...)',
        tags: ['recommendations'],
        params: routeSchema(UserIdParams),
        querystring: routeSchema(RecommendationsQuery),
        response: { 200: routeSchema(RecommendationsResponse), ...errors, 410: routeSchema(ErrorResponse) },
      },
    },
    async (request, reply) => {
      const { userId } = request.params as { userId: string };
      const query = request.query as Record<string, unknown>;
      const given = query['exclude'];
      const exclude = (typeof given === 'string' ? [given] : Array.isArray(given) ? (given as string[]) : [])
        .flatMap((list) => list.split(','))
        .filter((s) => s.length > 0);
      if (exclude.length > 500) {
        throw new RecsysError('VALIDATION_FAILED', {
          message: 'exclude lists at most 500 item ids.',
          issues: [{ path: '/exclude', reason: 'has more than 500 ids' }],
        });
      }
      const context = contextFromQuery(query);
      const result = await engine.recommender.recommend(
        toRequest(
          {
            userId,
            ...(typeof query['k'] === 'number' ? { k: query['k'] } : {}),
            ...(typeof query['offset'] === 'number' ? { offset: query['offset'] } : {}),
            ...(typeof query['category'] === 'string' ? { category: query['category'] } : {}),
            ...(typeof query['filterSeen'] === 'boolean' ? { filterSeen: query['filterSeen'] } : {}),
            ...(typeof query['maxPerCategory'] === 'number'
              ? { maxPerCategory: query['maxPerCategory'] }
              : {}),
            ...(typeof query['resultId'] === 'string' ? { resultId: query['resultId'] } : {}),
            ...(context === undefined ? {} : { context }),
            exclude,
          },
          deps.filterSeenDefault,
        ),
      );
      return answer(reply, userId, result, request.id);
    },
  );

  app.get(
    '/v1/popular',
    {
      config: { access: 'read' },
      preHandler: waitReady,
      schema: {
        summary: 'Popular items for a context (device, hour, ... as query parameters)',
        tags: ['recommendations'],
        querystring: routeSchema(PopularQuery),
        response: { 200: routeSchema(ItemsResponse), ...errors },
      },
    },
    async (request) => {
      const query = request.query as Record<string, unknown>;
      const k = typeof query['k'] === 'number' ? query['k'] : 10;
      const items = await engine.recommender.popularItems(contextFromQuery(query), k);
      return { items, modelVersion: engine.recommender.modelVersion(), requestId: request.id };
    },
  );

  app.get(
    '/v1/items/:itemId/similar',
    {
      config: { access: 'read' },
      preHandler: waitReady,
      schema: {
        summary: 'Items similar to an item (MF embeddings blended with content similarity)',
        tags: ['recommendations'],
        params: routeSchema(ItemIdParams),
        querystring: routeSchema(SimilarQuery),
        response: { 200: routeSchema(ItemsResponse), ...errors, 404: routeSchema(ErrorResponse) },
      },
    },
    async (request) => {
      const { itemId } = request.params as { itemId: string };
      const { k = 10 } = request.query as { k?: number };
      return {
        items: engine.recommender.similar(itemId, k),
        modelVersion: engine.recommender.modelVersion(),
        requestId: request.id,
      };
    },
  );
}

function toRequest(body: RecommendationsRequest, filterSeenDefault: boolean): RecommendRequest {
  return {
    userId: body.userId,
    k: body.k ?? 10,
    offset: body.offset ?? 0,
    filterSeen: body.filterSeen ?? filterSeenDefault,
    ...(body.context === undefined ? {} : { context: body.context }),
    ...(body.exclude === undefined ? {} : { exclude: body.exclude }),
    ...(body.category === undefined ? {} : { category: body.category }),
    ...(body.maxPerCategory === undefined ? {} : { maxPerCategory: body.maxPerCategory }),
    ...(body.resultId === undefined ? {} : { resultId: body.resultId }),
  };
}
