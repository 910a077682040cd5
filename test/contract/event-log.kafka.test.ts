import { inject } from 'vitest';
import { deleteTopics, kafkaLog, uniqueName } from '../support/adapters.ts';
import { describeEventLogContract } from './event-log.contract.ts';

const services = inject('services');

describeEventLogContract('kafka', async () => {
  const topic = uniqueName('events');
  const log = kafkaLog(services, { topic });
  return {
    log,
    second: async () => kafkaLog(services, { topic }),
    group: () => uniqueName('group'),
    cleanup: () => deleteTopics(services, [topic, `${topic}.dlq`]),
    rebalanceMs: 45_000,
  };
});
