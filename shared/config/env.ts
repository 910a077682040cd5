/**
 * Environment variables the config reads, each mapped to one config path. This table is the single
 * place that knows variable names; docs/configuration.md documents each (a test keeps them in step).
 */
export type EnvParser = 'string' | 'int' | 'bool' | 'list';

export interface EnvBinding {
  readonly name: string;
  readonly path: readonly string[];
  readonly parse: EnvParser;
  readonly description: string;
}

export const ENV_BINDINGS: readonly EnvBinding[] = [
  { name: 'LOG_LEVEL', path: ['log', 'level'], parse: 'string', description: 'pino log level' },
  { name: 'LOG_PRETTY', path: ['log', 'pretty'], parse: 'bool', description: 'human-readable logs' },
  {
    name: 'KAFKA_BROKERS',
    path: ['kafka', 'brokers'],
    parse: 'list',
    description: 'comma-separated host:port list; empty = embedded event log',
  },
  { name: 'KAFKA_CLIENT_ID', path: ['kafka', 'clientId'], parse: 'string', description: 'Kafka client id' },
  { name: 'RECSYS_EVENTS_TOPIC', path: ['kafka', 'topic'], parse: 'string', description: 'events topic' },
  {
    name: 'RECSYS_DEAD_LETTER_TOPIC',
    path: ['kafka', 'deadLetterTopic'],
    parse: 'string',
    description: 'dead-letter topic',
  },
  {
    name: 'RECSYS_EVENTS_PARTITIONS',
    path: ['kafka', 'partitions'],
    parse: 'int',
    description: 'partitions when the events topic is created',
  },
  {
    name: 'REDIS_URL',
    path: ['redis', 'url'],
    parse: 'string',
    description: 'redis://host:port[/db]; empty = embedded model store',
  },
  {
    name: 'RECSYS_REDIS_PREFIX',
    path: ['redis', 'keyPrefix'],
    parse: 'string',
    description: 'Redis key prefix',
  },
  {
    name: 'RECSYS_REDIS_COMMAND_TIMEOUT_MS',
    path: ['redis', 'commandTimeoutMs'],
    parse: 'int',
    description: 'Redis command timeout',
  },
  {
    name: 'RECSYS_DATA_DIR',
    path: ['embedded', 'dataDir'],
    parse: 'string',
    description: 'folder of the embedded adapters',
  },
  { name: 'HOST', path: ['serving', 'host'], parse: 'string', description: 'serving bind address' },
  {
    name: 'RECSYS_TF_BACKEND',
    path: ['model', 'backend'],
    parse: 'string',
    description: 'TF.js backend for NeuMF',
  },
  { name: 'RECSYS_MF_DIM', path: ['model', 'mf', 'dim'], parse: 'int', description: 'MF embedding size' },
  {
    name: 'RECSYS_TRAINER_MODELS',
    path: ['trainer', 'models'],
    parse: 'list',
    description: 'models the trainer runs, e.g. mf,neumf',
  },
  {
    name: 'RECSYS_TRAINER_GROUP_PREFIX',
    path: ['trainer', 'groupPrefix'],
    parse: 'string',
    description: 'consumer groups are <prefix>-<model>',
  },
  {
    name: 'RECSYS_METRICS_PORT',
    path: ['trainer', 'metricsPort'],
    parse: 'int',
    description: 'trainer /metrics and /healthz port',
  },
  {
    name: 'RECSYS_METRICS_HOST',
    path: ['trainer', 'metricsHost'],
    parse: 'string',
    description: 'address the trainer metrics port binds to (0.0.0.0 in containers)',
  },
  {
    name: 'RECSYS_AUDIT_EVENT_IDS',
    path: ['trainer', 'auditEventIds'],
    parse: 'bool',
    description: 'count every applied event id (audits, tests)',
  },
  {
    name: 'RECSYS_EVICT_AFTER_MS',
    path: ['trainer', 'evictAfterMs'],
    parse: 'int',
    description: 'evict rows not written for this long (0: never)',
  },
  { name: 'PORT', path: ['serving', 'port'], parse: 'int', description: 'serving port' },
  {
    name: 'RECSYS_SERVING_METRICS_PORT',
    path: ['serving', 'metricsPort'],
    parse: 'int',
    description: 'separate /metrics port (0: the main port)',
  },
  {
    name: 'RECSYS_SERVING_WORKERS',
    path: ['serving', 'workers'],
    parse: 'int',
    description: 'serving processes on the one port (0: one per core; >1 needs Redis and Kafka)',
  },
  {
    name: 'RECSYS_SERVING_HEAP_SEMI_SPACE_MB',
    path: ['serving', 'heapSemiSpaceMb'],
    parse: 'int',
    description: "serving's V8 young generation semi-space in MiB (0: V8's choice)",
  },
  {
    name: 'RECSYS_SERVING_HEAP_OLD_SPACE_MB',
    path: ['serving', 'heapOldSpaceMb'],
    parse: 'int',
    description: "old generation serving may grow to before a full GC, MiB (0: V8's choice)",
  },
  {
    name: 'RECSYS_SERVING_ANN_THRESHOLD',
    path: ['serving', 'annThreshold'],
    parse: 'int',
    description: 'above this many items, MF candidates come from the HNSW index',
  },
  {
    name: 'RECSYS_SERVING_ANN_SHARE_DIR',
    path: ['serving', 'annShareDir'],
    parse: 'string',
    description: 'folder where serving processes share HNSW builds (empty: each builds its own)',
  },
  {
    name: 'RECSYS_SERVING_ANN_BUILDER',
    path: ['serving', 'annBuilder'],
    parse: 'bool',
    description: 'with a share folder: this process builds the HNSW index (one should)',
  },
  {
    name: 'RECSYS_WRITE_API_KEYS',
    path: ['serving', 'writeApiKeys'],
    parse: 'list',
    description: 'comma-separated keys for write routes',
  },
  {
    name: 'RECSYS_READ_API_KEYS',
    path: ['serving', 'readApiKeys'],
    parse: 'list',
    description: 'comma-separated keys for read routes',
  },
  {
    name: 'RECSYS_OPEN_WRITES',
    path: ['serving', 'openWrites'],
    parse: 'bool',
    description: 'with keys configured, let write routes go without a write key',
  },
  {
    name: 'RECSYS_CORS_ORIGINS',
    path: ['serving', 'corsOrigins'],
    parse: 'list',
    description: 'CORS origins',
  },
  {
    name: 'RECSYS_RATE_LIMIT_PER_MINUTE',
    path: ['serving', 'rateLimitPerMinute'],
    parse: 'int',
    description: 'requests per minute per key or address',
  },
];
