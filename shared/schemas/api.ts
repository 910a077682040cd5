import { Type, type Static } from '@sinclair/typebox';
import { MODEL_NAMES, MODELS, type ModelName } from '../model/registry.ts';
import { CONTEXT_PROPERTIES, ContextMap, Id, Label, ScalarMap } from './common.ts';
import { InteractionEventSchema } from './event.ts';
import { LIMITS } from './limits.ts';

/**
 * Schemas of the HTTP API (served by services/serving, documented at /openapi.json). Every
 * object rejects unknown fields; every list and string is bounded.
 */
export const API_LIMITS = {
  maxK: 100,
  maxOffset: 1_000,
  maxExclude: 500,
  maxBatchEvents: 500,
} as const;

export const Context = ContextMap('Request context: device, hour (0-23), dow (0-6), locale, page, ...');

/** Sources that are serving's own, not a model's: content features, popularity, MF neighbours. */
export const SERVING_SOURCES = ['content', 'popular', 'similar'] as const;

export type SourceName = ModelName | (typeof SERVING_SOURCES)[number];

/**
 * Where a recommended item came from (docs/api.md "Sources"): each model's `source` (the model
 * registry), then serving's own. The one list: serving's blend, metrics and the API schema read
 * it; `SOURCES[code]` is how rankings store a source.
 */
export const SOURCES: readonly SourceName[] = [
  ...MODEL_NAMES.map((name) => MODELS[name].source),
  ...SERVING_SOURCES,
];

export const Source = Type.Union(
  SOURCES.map((s) => Type.Literal(s)),
  {
    description:
      'Where the item came from: mf (matrix factorization), neumf (the NeuMF re-ranker), content (features like the recent history), popular, session (what tends to follow your latest items), similar (items whose MF vectors are near your latest items).',
  },
);

export const RecommendationItem = Type.Object(
  {
    itemId: Type.String(),
    score: Type.Number({ description: 'Blended score in [0, 1]; higher is better.' }),
    source: Source,
  },
  { additionalProperties: false },
);

export const RecommendationsRequest = Type.Object(
  {
    userId: Id('Who the recommendations are for; an unknown user gets the fallback.'),
    k: Type.Optional(Type.Integer({ minimum: 1, maximum: API_LIMITS.maxK, default: 10 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: API_LIMITS.maxOffset, default: 0 })),
    context: Type.Optional(Context),
    exclude: Type.Optional(
      Type.Array(Id('An item not to recommend.'), { maxItems: API_LIMITS.maxExclude, uniqueItems: true }),
    ),
    category: Type.Optional(Label),
    filterSeen: Type.Optional(
      Type.Boolean({ description: 'Leave out items the user interacted with (default true).' }),
    ),
    maxPerCategory: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: API_LIMITS.maxK,
        description: 'Diversity: at most this many items of one category.',
      }),
    ),
    resultId: Type.Optional(
      Type.String({
        maxLength: 64,
        pattern: '^[A-Za-z0-9-]+$',
        description: 'The resultId of an earlier page: the next pages continue that ranking (no item twice).',
      }),
    ),
  },
  { additionalProperties: false, $id: 'RecommendationsRequest' },
);
export type RecommendationsRequest = Static<typeof RecommendationsRequest>;

export const RecommendationsResponse = Type.Object(
  {
    userId: Type.String(),
    items: Type.Array(RecommendationItem),
    modelVersion: Type.String({ description: 'Versions of the models and index that produced the ranking.' }),
    requestId: Type.String(),
    resultId: Type.String({ description: 'Pass it back with a larger offset to page through this ranking.' }),
  },
  { additionalProperties: false },
);

/** Query string of GET /v1/users/:userId/recommendations: context fields are extra query keys. */
export const RecommendationsQuery = Type.Object(
  {
    k: Type.Optional(Type.Integer({ minimum: 1, maximum: API_LIMITS.maxK })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: API_LIMITS.maxOffset })),
    exclude: Type.Optional(
      Type.Union(
        [
          Type.String({ maxLength: 20_000 }),
          Type.Array(Type.String({ maxLength: 20_000 }), { maxItems: 500 }),
        ],
        { description: 'Item ids, comma-separated, or the key repeated (?exclude=a&exclude=b).' },
      ),
    ),
    category: Type.Optional(Label),
    filterSeen: Type.Optional(Type.Boolean()),
    maxPerCategory: Type.Optional(Type.Integer({ minimum: 1, maximum: API_LIMITS.maxK })),
    resultId: Type.Optional(Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9-]+$' })),
    ...CONTEXT_PROPERTIES,
  },
  {
    additionalProperties: Type.Union([Type.String({ maxLength: LIMITS.valueMaxLength }), Type.Number()]),
    maxProperties: 7 + LIMITS.mapMaxEntries,
  },
);

/** The query keys of GET /v1/recommendations that are not context (every other key is a context field). */
export const RECOMMENDATION_QUERY_KEYS: readonly string[] = Object.keys(
  RecommendationsQuery.properties,
).filter((key) => !(key in CONTEXT_PROPERTIES));

export const SimilarQuery = Type.Object(
  { k: Type.Optional(Type.Integer({ minimum: 1, maximum: API_LIMITS.maxK })) },
  { additionalProperties: false },
);

export const PopularQuery = Type.Object(
  { k: Type.Optional(Type.Integer({ minimum: 1, maximum: API_LIMITS.maxK })), ...CONTEXT_PROPERTIES },
  {
    additionalProperties: Type.Union([Type.String({ maxLength: LIMITS.valueMaxLength }), Type.Number()]),
    maxProperties: 1 + LIMITS.mapMaxEntries,
  },
);

export const ItemsResponse = Type.Object(
  {
    items: Type.Array(RecommendationItem),
    modelVersion: Type.String(),
    requestId: Type.String(),
  },
  { additionalProperties: false },
);

export const ItemIdParams = Type.Object({ itemId: Id('The item id.') }, { additionalProperties: false });
export const UserIdParams = Type.Object({ userId: Id('The user id.') }, { additionalProperties: false });

/** PUT /v1/items/:itemId body: the item record without its id (or with the same id). */
export const ItemBody = Type.Object(
  {
    itemId: Type.Optional(Id('Must equal the id in the path when given.')),
    title: Type.Optional(Type.String({ maxLength: LIMITS.textMaxLength })),
    categories: Type.Optional(Type.Array(Label, { maxItems: LIMITS.listMaxEntries, uniqueItems: true })),
    tags: Type.Optional(Type.Array(Label, { maxItems: LIMITS.listMaxEntries, uniqueItems: true })),
    attributes: Type.Optional(ScalarMap('Numeric and categorical attributes.')),
    hidden: Type.Optional(Type.Boolean({ description: 'Hidden items are never recommended.' })),
  },
  { additionalProperties: false, $id: 'ItemBody' },
);
export type ItemBody = Static<typeof ItemBody>;

export const UserBody = Type.Object(
  {
    userId: Type.Optional(Id('Must equal the id in the path when given.')),
    tags: Type.Optional(Type.Array(Label, { maxItems: LIMITS.listMaxEntries, uniqueItems: true })),
    attributes: Type.Optional(ScalarMap('Numeric and categorical attributes.')),
  },
  { additionalProperties: false, $id: 'UserBody' },
);
export type UserBody = Static<typeof UserBody>;

/** POST /v1/events: one event, or an array of up to maxBatchEvents. */
export const EventsBody = Type.Union([
  Type.Ref(InteractionEventSchema),
  Type.Array(Type.Unknown(), { minItems: 1, maxItems: API_LIMITS.maxBatchEvents }),
]);

export const EventsResponse = Type.Object(
  {
    accepted: Type.Integer(),
    rejected: Type.Integer(),
    errors: Type.Array(
      Type.Object({
        index: Type.Integer(),
        code: Type.String(),
        message: Type.String(),
        issues: Type.Optional(Type.Array(Type.Object({ path: Type.String(), reason: Type.String() }))),
      }),
    ),
    requestId: Type.String(),
  },
  { additionalProperties: false },
);

export const ErrorResponse = Type.Object(
  {
    code: Type.String(),
    message: Type.String(),
    issues: Type.Optional(Type.Array(Type.Object({ path: Type.String(), reason: Type.String() }))),
    requestId: Type.Optional(Type.String()),
  },
  { $id: 'ErrorResponse' },
);
