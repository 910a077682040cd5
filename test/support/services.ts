/**
 * Finds or starts the real Kafka and Redis the contract and integration tests use:
 *  1. KAFKA_BROKERS and REDIS_URL from the environment, when both are set;
 *  2. services already started by `npm run services:up` (recorded in .recsys/services.env);
 *  3. containers, with testcontainers, when a Docker engine is reachable;
 *  4. a local redis-server and Apache Kafka broker, with scripts/local-services.ts.
 * What this module starts, it stops at the end of the run. When nothing works the run fails
 * with what to install: integration tests never skip.
 */
import {
  freePorts,
  runningState,
  servicesDown,
  servicesUp,
  type ServiceEndpoints,
} from '../../scripts/local-services.ts';

export type { ServiceEndpoints };

type Release = () => Promise<void>;

interface Acquired {
  readonly endpoints: ServiceEndpoints;
  readonly how: string;
  readonly release: Release;
}

export async function acquireServices(log: (line: string) => void): Promise<Acquired> {
  const kafka = process.env['KAFKA_BROKERS'];
  const redis = process.env['REDIS_URL'];
  if (kafka && redis) {
    return {
      endpoints: { kafkaBrokers: kafka, redisUrl: redis },
      how: 'environment',
      release: async () => undefined,
    };
  }
  const running = await runningState();
  if (running !== undefined) {
    return { endpoints: running, how: 'npm run services:up', release: async () => undefined };
  }
  const failures: string[] = [];
  if (process.env['RECSYS_TEST_DOCKER'] !== '0') {
    try {
      return await startContainers(log);
    } catch (error) {
      failures.push(`testcontainers: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  try {
    log(
      'no Docker engine; starting a local redis-server and Apache Kafka broker (scripts/local-services.ts)',
    );
    const endpoints = await servicesUp(log);
    return { endpoints, how: 'local scripts', release: () => servicesDown(log) };
  } catch (error) {
    failures.push(`local services: ${(error as Error).message}`);
  }
  throw new Error(
    [
      'The contract and integration tests need a real Kafka and Redis, and none could be found or started.',
      ...failures.map((f) => `  - ${f}`),
      'Fix one of:',
      '  - set KAFKA_BROKERS=host:port and REDIS_URL=redis://host:port to running services;',
      '  - start a Docker engine (testcontainers then starts both);',
      '  - install redis-server, Java 17+ and Maven (Debian: apt-get install -y redis-server openjdk-17-jre-headless maven),',
      '    then run npm test again (or npm run services:up first).',
    ].join('\n'),
  );
}

async function startContainers(log: (line: string) => void): Promise<Acquired> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  await getContainerRuntimeClient(); // throws when no Docker engine is reachable
  log('starting Redis and Kafka containers with testcontainers');
  const redis = await new GenericContainer('redis:7.4')
    .withCommand(['redis-server', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction'])
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
  // Kafka advertises the address clients must use, so bind the same port on both sides.
  const [port] = await freePorts(1);
  const kafka = await new GenericContainer('apache/kafka:4.1.1')
    .withExposedPorts({ container: port as number, host: port as number })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: `PLAINTEXT://:${port},CONTROLLER://:9093`,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${port}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  return {
    endpoints: {
      kafkaBrokers: `127.0.0.1:${port}`,
      redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
    },
    how: 'testcontainers',
    release: async () => {
      await Promise.allSettled([kafka.stop(), redis.stop()]);
    },
  };
}
