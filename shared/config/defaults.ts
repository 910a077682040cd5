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
      // Empty: `<topic>.dlq`.
      deadLetterTopic: '',
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
      metricsPort: 0,
      writeApiKeys: [],
      readApiKeys: [],
      openWrites: false,
      corsOrigins: [],
      bodyLimitBytes: 1_048_576,
      rateLimitPerMinute: 0,
      userEventsPerMinute: 600,
      storeTimeoutMs: 100,
      annThreshold: 50_000,
      annThreads: 1,
      annShareDir: '',
      annBuilder: true,
      workers: 1,
      heapSemiSpaceMb: 16,
      heapOldSpaceMb: 512,
      candidates: 100,
      blendInteractions: 10,
      refreshMs: 250,
      fullReloadMs: 300_000,
      readyWaitMs: 10_000,
      resultTtlMs: 600_000,
      requestTimeoutMs: 10_000,
    },
    model: {
      seed: 42,
      popularityEpochMs: Date.UTC(2026, 0, 1),
      backend: 'auto',
      popularityHalfLifeMs: 7 * 24 * 3_600_000,
      context: { fields: [], crosses: ['device'] },
      // A window of 10 rather than the offline 20: each pair is a store write, and on MovieLens
      // 100K (prequential) 10 keeps nearly all of the signal (docs/evaluation.md). Learnt by the
      // `session` model (trainer.models), in its own consumer group.
      session: {
        window: 10,
        decay: 0.9,
        recent: 10,
        recentDecay: 0.5,
        neighbors: 100,
        weight: 1,
        by: ['device'],
      },
      mf: {
        dim: 64,
        loss: 'bpr',
        negatives: 4,
        optimizer: 'adagrad',
        // The trainer sees each event once: settings for one pass over a drifting stream, chosen
        // on the served pipeline (`recsys eval --model serving`, docs/evaluation.md). A high
        // learning rate and no L2 (shrinking every row at each step forgets too fast online),
        // with row norms capped instead; the multi-epoch offline presets differ.
        learningRate: 0.3,
        biasLearningRate: 0.2,
        l2: 0,
        clipNorm: 5,
        maxNorm: 2,
        initStd: 0.01,
        context: true,
      },
      neumf: {
        gmfDim: 32,
        mlpDim: 32,
        hidden: [32, 16],
        contextDim: 8,
        negatives: 4,
        batchSize: 256,
        learningRate: 0.05,
        denseLearningRate: 0.002,
      },
    },
    trainer: {
      models: ['mf', 'neumf', 'session'],
      groupPrefix: 'recsys-trainer',
      metricsHost: '127.0.0.1',
      metricsPort: 9464,
      itemRefreshMs: 1_000,
      cacheRows: 2_000_000,
      historyLimit: 100,
      evictAfterMs: 0,
      evictIntervalMs: 3_600_000,
      densePublishMs: 5_000,
      prequentialSample: 0.05,
      shutdownTimeoutMs: 20_000,
      flushMs: 200,
      flushRecords: 20_000,
      prefetchBatches: 4,
      retryDelayMs: 500,
      auditEventIds: false,
      holdWritesFile: '',
      userEventsPerMinute: 600,
    },
  };
}
