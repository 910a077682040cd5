import { Type, type Static } from '@sinclair/typebox';
import { MODEL_NAMES } from '../model/registry.ts';

/**
 * The shape of the configuration. Every field has a default (shared/config/defaults.ts); a config
 * file, environment variables and explicit overrides are layered on top, then this schema validates
 * the result. Unknown keys are rejected so that a typo in a config file fails at start.
 */
const LogLevel = Type.Union(
  ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
);

export const EventTypeSpec = Type.Object(
  {
    /** How strongly this event says "the user wants this item". Negative means "does not want". */
    weight: Type.Number({ minimum: -10, maximum: 10 }),
    /** implicit: a positive or negative interaction; explicit: `value` carries a rating. */
    kind: Type.Union([Type.Literal('implicit'), Type.Literal('explicit')]),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    log: Type.Object(
      {
        level: LogLevel,
        pretty: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
    events: Type.Object(
      {
        /** Event types and their weights; extend by adding entries. */
        types: Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$' }), EventTypeSpec),
        /** Largest serialized event accepted, in bytes. */
        maxBytes: Type.Integer({ minimum: 256, maximum: 1_048_576 }),
      },
      { additionalProperties: false },
    ),
    kafka: Type.Object(
      {
        /** Empty: use the embedded in-memory event log. */
        brokers: Type.Array(Type.String({ minLength: 1 })),
        clientId: Type.String({ minLength: 1 }),
        topic: Type.String({ minLength: 1, maxLength: 249, pattern: '^[A-Za-z0-9._-]+$' }),
        /** Empty: `<topic>.dlq`. */
        deadLetterTopic: Type.String({ maxLength: 249, pattern: '^[A-Za-z0-9._-]*$' }),
        partitions: Type.Integer({ minimum: 1, maximum: 10_000 }),
        replicationFactor: Type.Integer({ minimum: 1, maximum: 16 }),
        connectionTimeoutMs: Type.Integer({ minimum: 100 }),
        requestTimeoutMs: Type.Integer({ minimum: 100 }),
        sessionTimeoutMs: Type.Integer({ minimum: 1000 }),
        heartbeatIntervalMs: Type.Integer({ minimum: 100 }),
      },
      { additionalProperties: false },
    ),
    redis: Type.Object(
      {
        /** Empty: use the embedded in-memory model store. */
        url: Type.String(),
        keyPrefix: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' }),
        commandTimeoutMs: Type.Integer({ minimum: 10 }),
        connectTimeoutMs: Type.Integer({ minimum: 10 }),
      },
      { additionalProperties: false },
    ),
    embedded: Type.Object(
      {
        /** Where the in-memory adapters persist their state between runs. */
        dataDir: Type.String({ minLength: 1 }),
        /** How often the in-memory adapters write their state to disk (0: only on shutdown). */
        persistIntervalMs: Type.Integer({ minimum: 0 }),
        partitions: Type.Integer({ minimum: 1, maximum: 1024 }),
      },
      { additionalProperties: false },
    ),
    serving: Type.Object(
      {
        host: Type.String({ minLength: 1 }),
        port: Type.Integer({ minimum: 0, maximum: 65535 }),
        /** Serve /metrics on this separate port (0: on the main port). */
        metricsPort: Type.Integer({ minimum: 0, maximum: 65535 }),
        /** Keys accepted on write routes (items, users, events); empty: no key needed. */
        writeApiKeys: Type.Array(Type.String({ minLength: 16, maxLength: 256 }), { maxItems: 64 }),
        /** Keys accepted on read routes; empty: reads are open. */
        readApiKeys: Type.Array(Type.String({ minLength: 16, maxLength: 256 }), { maxItems: 64 }),
        /**
         * With keys configured, write routes need a write key (none configured: writes are closed);
         * true opens them to anyone. Ignored without keys (then everything is open).
         */
        openWrites: Type.Boolean(),
        /** Origins allowed by CORS; empty: CORS off. */
        corsOrigins: Type.Array(Type.String({ minLength: 1 }), { maxItems: 64 }),
        /** Largest request body in bytes (413 beyond). */
        bodyLimitBytes: Type.Integer({ minimum: 1_024, maximum: 64 * 1_048_576 }),
        /** Requests per minute per API key (or client address without a key); 0: no limit. */
        rateLimitPerMinute: Type.Integer({ minimum: 0 }),
        /** Events accepted per user per minute on POST /v1/events (a click flood cannot drag the model). */
        userEventsPerMinute: Type.Integer({ minimum: 1 }),
        /** Redis command timeout on the request path: slow Redis means fallback, not slow answers. */
        storeTimeoutMs: Type.Integer({ minimum: 5, maximum: 10_000 }),
        /** Above this many items, MF candidates come from the ANN index (HNSW, usearch). */
        annThreshold: Type.Integer({ minimum: 0 }),
        /** Threads an ANN index build may use (in a worker; the rest keep serving). */
        annThreads: Type.Integer({ minimum: 1, maximum: 64 }),
        /**
         * A folder where serving processes on one machine share HNSW builds (empty: each builds its
         * own; with workers > 1 the primary uses a temporary folder when this is empty).
         */
        annShareDir: Type.String({ maxLength: 4_096 }),
        /** With annShareDir: this process builds (exactly one should); the others adopt its builds. */
        annBuilder: Type.Boolean(),
        /** Serving processes on the one port (node:cluster); 0: one per available core. */
        workers: Type.Integer({ minimum: 0, maximum: 256 }),
        /**
         * Serving's young generation: V8's --max-semi-space-size in MiB (0: V8's own choice).
         * Smaller semi-spaces mean shorter, more frequent minor collections (docs/serving.md,
         * "Garbage collection"). Workers are forked with it; one process restarts itself with it.
         */
        heapSemiSpaceMb: Type.Integer({ minimum: 0, maximum: 1_024 }),
        /**
         * Serving's old generation may grow this far (MiB) before a full collection: V8's
         * --initial-old-space-size, capped at an eighth of the memory per serving process (0: V8's
         * own choice).
         */
        heapOldSpaceMb: Type.Integer({ minimum: 0, maximum: 1_048_576 }),
        /** Candidates taken from each source before re-ranking. */
        candidates: Type.Integer({ minimum: 10, maximum: 5_000 }),
        /** Interactions at which a user's (or item's) model score weighs half in the blend. */
        blendInteractions: Type.Number({ exclusiveMinimum: 0 }),
        /** How often the in-memory index follows the trainers' change streams. */
        refreshMs: Type.Integer({ minimum: 10 }),
        /** How often the whole index is reloaded (and the ANN index rebuilt). */
        fullReloadMs: Type.Integer({ minimum: 1_000 }),
        /** A ranking request during the first load waits this long for it, then gets 503 NOT_READY. */
        readyWaitMs: Type.Integer({ minimum: 0, maximum: 120_000 }),
        /** How long a ranking is kept for paging through it with resultId. */
        resultTtlMs: Type.Integer({ minimum: 1_000 }),
        /** Slow clients are cut off after this (headers and whole request). */
        requestTimeoutMs: Type.Integer({ minimum: 100 }),
      },
      { additionalProperties: false },
    ),
    model: Type.Object(
      {
        seed: Type.Integer({ minimum: 0 }),
        /** TF.js backend for NeuMF: auto = native if installed, else wasm, else cpu. */
        backend: Type.Union([
          Type.Literal('auto'),
          Type.Literal('tensorflow'),
          Type.Literal('wasm'),
          Type.Literal('cpu'),
        ]),
        /** Half-life of the time-decayed popularity. */
        popularityHalfLifeMs: Type.Integer({ minimum: 1 }),
        /**
         * Popularity scores are stored as weight * 2^((t - epoch) / halfLife): they grow with time
         * and overflow about 1,000 half-lives after the epoch (about 19 years at 7 days).
         */
        popularityEpochMs: Type.Integer({ minimum: 0 }),
        /** Context features, the same for every model and the popularity segments (context.ts). */
        context: Type.Object(
          {
            /** Categorical context fields beyond the built-in hour, dow and device, e.g. ['locale']. */
            fields: Type.Array(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,31}$' }), {
              maxItems: 16,
              uniqueItems: true,
            }),
            /** Fields that also get a row per user in MF (user x context: `<user>@device=mobile`). */
            crosses: Type.Array(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,31}$' }), {
              maxItems: 4,
              uniqueItems: true,
            }),
          },
          { additionalProperties: false },
        ),
        /**
         * The session signal (shared/model/item-transitions.ts): item-to-item transitions the
         * `session` model (in trainer.models) learns per event and serving scores from a
         * session's latest items.
         */
        session: Type.Object(
          {
            /** Previous events of the user each event is paired with (each pair is one store write). */
            window: Type.Integer({ minimum: 1, maximum: 100 }),
            /** Weight of a pair d events apart: decay^(d-1). */
            decay: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
            /** The user's latest items a query starts from. */
            recent: Type.Integer({ minimum: 1, maximum: 100 }),
            /** Weight of the k-th latest item of a query: recentDecay^k. */
            recentDecay: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
            /** Neighbours kept per item in the store (a list is trimmed past twice this). */
            neighbors: Type.Integer({ minimum: 1, maximum: 10_000 }),
            /** Its weight against the model score in the served blend (services/serving/ranking/blend.ts). */
            weight: Type.Number({ minimum: 0, maximum: 100 }),
            /** Context fields that split a user's session (one per device by default); [] for one per user. */
            by: Type.Array(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,31}$' }), {
              maxItems: 4,
              uniqueItems: true,
            }),
          },
          { additionalProperties: false },
        ),
        mf: Type.Object(
          {
            dim: Type.Integer({ minimum: 1, maximum: 1024 }),
            loss: Type.Union([Type.Literal('bpr'), Type.Literal('logistic')]),
            negatives: Type.Integer({ minimum: 0, maximum: 256 }),
            optimizer: Type.Union([Type.Literal('adagrad'), Type.Literal('sgd')]),
            learningRate: Type.Number({ exclusiveMinimum: 0, maximum: 10 }),
            biasLearningRate: Type.Number({ exclusiveMinimum: 0, maximum: 10 }),
            l2: Type.Number({ minimum: 0, maximum: 1 }),
            clipNorm: Type.Number({ minimum: 0 }),
            maxNorm: Type.Number({ minimum: 0 }),
            initStd: Type.Number({ minimum: 0, maximum: 1 }),
            /** Learn context rows (model.context) and add them to every query (false: context-free MF). */
            context: Type.Boolean(),
          },
          { additionalProperties: false },
        ),
        neumf: Type.Object(
          {
            gmfDim: Type.Integer({ minimum: 1, maximum: 512 }),
            mlpDim: Type.Integer({ minimum: 1, maximum: 512 }),
            hidden: Type.Array(Type.Integer({ minimum: 1, maximum: 2048 }), { minItems: 1, maxItems: 8 }),
            contextDim: Type.Integer({ minimum: 0, maximum: 128 }),
            negatives: Type.Integer({ minimum: 0, maximum: 64 }),
            batchSize: Type.Integer({ minimum: 1, maximum: 65_536 }),
            learningRate: Type.Number({ exclusiveMinimum: 0, maximum: 10 }),
            denseLearningRate: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    trainer: Type.Object(
      {
        /** Models to train, each in its own consumer group; the first also writes serving data. */
        models: Type.Array(Type.Union(MODEL_NAMES.map((name) => Type.Literal(name))), {
          minItems: 1,
          maxItems: MODEL_NAMES.length,
          uniqueItems: true,
        }),
        /** Consumer group of a model: `<groupPrefix>-<model>`. */
        groupPrefix: Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._-]+$' }),
        metricsHost: Type.String({ minLength: 1 }),
        /** /metrics and /healthz port (0: any free port). */
        metricsPort: Type.Integer({ minimum: 0, maximum: 65535 }),
        /** Shared (item) rows cached longer than this are reloaded: the staleness bound. */
        itemRefreshMs: Type.Integer({ minimum: 0 }),
        /** Rows held in the local cache before it is emptied (reloaded from the store on demand). */
        cacheRows: Type.Integer({ minimum: 1_000 }),
        /** Items kept in each user's recent history. */
        historyLimit: Type.Integer({ minimum: 1, maximum: 10_000 }),
        /** Rows not written for this long are evicted (0: never). */
        evictAfterMs: Type.Integer({ minimum: 0 }),
        evictIntervalMs: Type.Integer({ minimum: 1_000 }),
        /** How often NeuMF's dense tower is merged into and read back from the store. */
        densePublishMs: Type.Integer({ minimum: 100 }),
        /** Share of events ranked before they are learned (prequential HR@10 and NDCG@10). */
        prequentialSample: Type.Number({ minimum: 0, maximum: 1 }),
        /** SIGTERM: how long to finish the batch in progress before exiting anyway. */
        shutdownTimeoutMs: Type.Integer({ minimum: 100 }),
        /** Trained batches are written together at least this often (adds at most this to freshness). */
        flushMs: Type.Integer({ minimum: 0, maximum: 60_000 }),
        /** ... or as soon as this many records are trained but not written. */
        flushRecords: Type.Integer({ minimum: 1 }),
        /**
         * Batches (of different partitions) taken from the log at once: while one trains, the
         * others' user rows and histories are read from the store (1: one batch at a time).
         */
        prefetchBatches: Type.Integer({ minimum: 1, maximum: 64 }),
        /** Pause before a batch that failed on Redis or Kafka is tried again (doubles, up to 10 s). */
        retryDelayMs: Type.Integer({ minimum: 10 }),
        /** Count every applied event id in `applied:<model>` (for audits and tests; costs memory). */
        auditEventIds: Type.Boolean(),
        /**
         * Events per user per minute of event time the trainer learns (per partition; 0: no cap).
         * The same cap as serving's, for events produced straight to Kafka.
         */
        userEventsPerMinute: Type.Integer({ minimum: 0 }),
        /**
         * Fault injection for tests and drills: while this file exists, trained batches are not
         * written (each write waits), which makes a paused zombie on demand. Empty: off.
         */
        holdWritesFile: Type.String(),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type EventTypeConfig = Static<typeof EventTypeSpec>;

/** A readonly view of the config, which is frozen after validation. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type RecsysConfig = DeepReadonly<Config>;
