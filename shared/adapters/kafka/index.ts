export { KafkaEventLog, type KafkaEventLogOptions } from './event-log.ts';
export { createKafkaClient, type KafkaClientOptions } from './client.ts';
