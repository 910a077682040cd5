import { Kafka, logLevel as KafkaLogLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from '../../observability/index.ts';

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
}

/** Routes kafkajs's own log lines into the process's pino logger (STYLE.md "Observability"). */
function pinoLogCreator(logger: Logger): logCreator {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _logger, ...extra } = log;
      switch (level) {
        case KafkaLogLevel.ERROR:
          kafkaLogger.error(extra, message);
          break;
        case KafkaLogLevel.WARN:
          kafkaLogger.warn(extra, message);
          break;
        case KafkaLogLevel.INFO:
          kafkaLogger.debug(extra, message);
          break;
        default:
          kafkaLogger.trace(extra, message);
      }
    };
}

export function createKafkaClient(options: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout: options.connectionTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    logLevel: KafkaLogLevel.INFO,
    logCreator: pinoLogCreator(options.logger),
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
  });
}
