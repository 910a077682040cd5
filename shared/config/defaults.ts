import type { Config } from './schema.ts';

/**
 * Defaults chosen so that a first run needs nothing installed: no brokers and no Redis URL mean the
 * embedded in-memory adapters, persisted under ./data.
 */
export function defaultConfig(): Config {
  return {
    log: { level: 'info', pretty: false },
    events: {
      // Weights follow the usual ordering of intent (purchase > like > click > view); dislike is a
      // negative example and an impression without a click a weak negative.
      types: {
        purchase: { weight: 4, kind: 'implicit' },
        like: { weight: 2, kind: 'implicit' },
        click: { weight: 1, kind: 'implicit' },
        view: { weight: 0.5, kind: 'implicit' },
        impression: { weight: -0.1, kind: 'implicit' },
        dislike: { weight: -1, kind: 'implicit' },
        rating: { weight: 1, kind: 'explicit' },
      },
      maxBytes: 16_384,
    },
    kafka: {
      brokers: [],
      clientId: 'recsys',
      topic: 'recsys.events',
      deadLetterTopic: 'recsys.events.dlq',
      partitions: 4,
      replicationFactor: 1,
      connectionTimeoutMs: 3_000,
      requestTimeoutMs: 30_000,
      sessionTimeoutMs: 30_000,
      heartbeatIntervalMs: 3_000,
    },
    redis: {
      url: '',
      keyPrefix: 'recsys',
      commandTimeoutMs: 2_000,
      connectTimeoutMs: 2_000,
    },
    embedded: {
      dataDir: 'data',
      persistIntervalMs: 5_000,
      partitions: 4,
    },
    serving: {
      host: '127.0.0.1',
      port: 8080,
    },
  };
}
