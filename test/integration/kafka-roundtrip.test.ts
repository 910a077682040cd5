import { afterAll, describe, expect, inject, it } from 'vitest';
import { defaultConfig } from '../../shared/config/index.ts';
import { createEventCodec } from '../../shared/schemas/index.ts';
import type { Subscription } from '../../shared/ports/index.ts';
import { deleteTopics, kafkaLog, uniqueName } from '../support/adapters.ts';
import { waitUntil } from '../support/wait.ts';

const services = inject('services');
const topic = uniqueName('roundtrip');
const codec = createEventCodec({ types: defaultConfig().events.types, maxBytes: 16_384 });

afterAll(() => deleteTopics(services, [topic, `${topic}.dlq`]));

describe('Kafka EventLog round trip', () => {
  it(
    'carries 100,000 events from producer to consumer group with none lost or duplicated',
    { timeout: 300_000 },
    async () => {
      const total = 100_000;
      const producer = kafkaLog(services, { topic, partitions: 4 });
      const consumer = kafkaLog(services, { topic, partitions: 4 });
      let subscription: Subscription | undefined;
      try {
        await producer.ensureTopics();
        const seen = new Map<string, number>();
        let invalid = 0;
        subscription = await consumer.consume({
          groupId: uniqueName('group'),
          eachBatch: async (batch, ctx) => {
            for (const record of batch.records) {
              const decoded = codec.decode(record.value);
              if (!decoded.ok || decoded.value.eventId === undefined) {
                invalid++;
                continue;
              }
              seen.set(decoded.value.eventId, (seen.get(decoded.value.eventId) ?? 0) + 1);
            }
            ctx.markProcessed(batch.nextOffset);
          },
        });
        const chunk = 10_000;
        for (let start = 0; start < total; start += chunk) {
          const records = [];
          for (let i = start; i < start + chunk; i++) {
            const event = {
              eventId: `e-${i}`,
              userId: `u-${i % 5_000}`,
              itemId: `i-${i % 1_700}`,
              type: 'click',
              timestamp: 1_700_000_000_000 + i,
            };
            records.push({ key: event.userId, value: codec.encode(event) });
          }
          await producer.append(records);
        }
        const ends = await producer.endOffsets();
        expect([...ends.values()].reduce((a, b) => a + b, 0)).toBe(total);
        await waitUntil(() => seen.size >= total, `${total} distinct events`, 240_000, 200);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect(invalid).toBe(0);
        expect(seen.size).toBe(total);
        const duplicated = [...seen.entries()].filter(([, n]) => n > 1);
        expect(duplicated).toEqual([]);
        for (let i = 0; i < total; i += 9_973) expect(seen.get(`e-${i}`)).toBe(1);
      } finally {
        await subscription?.stop();
        await consumer.close();
        await producer.close();
      }
    },
  );
});
