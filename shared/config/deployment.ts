import type { RecsysConfig } from './schema.ts';

/** Which adapters the config selects: the embedded default, or real Kafka and Redis. */
export interface Deployment {
  readonly eventLog: 'kafka' | 'memory';
  readonly modelStore: 'redis' | 'memory';
}

export function describeDeployment(config: RecsysConfig): Deployment {
  return {
    eventLog: config.kafka.brokers.length > 0 ? 'kafka' : 'memory',
    modelStore: config.redis.url !== '' ? 'redis' : 'memory',
  };
}
