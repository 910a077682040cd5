import { Type, type Static } from '@sinclair/typebox';

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
        deadLetterTopic: Type.String({ minLength: 1, maxLength: 249, pattern: '^[A-Za-z0-9._-]+$' }),
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
