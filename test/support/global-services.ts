import type { TestProject } from 'vitest/node';
import { filterKnownWarnings } from '../../shared/observability/warnings.ts';
import { acquireServices, type ServiceEndpoints } from './services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    services: ServiceEndpoints;
  }
}

interface Shared {
  acquired: ReturnType<typeof acquireServices>;
  users: number;
}

const KEY = Symbol.for('recsys.test.services');

/**
 * Vitest global setup of the contract and integration projects. Both projects share one
 * acquisition (through globalThis, as each project loads this module on its own); the last
 * teardown releases what was started.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  filterKnownWarnings();
  const holder = globalThis as unknown as Record<symbol, Shared | undefined>;
  let shared = holder[KEY];
  if (shared === undefined) {
    const log = (line: string): void => {
      process.stderr.write(`[test services] ${line}\n`);
    };
    shared = { acquired: acquireServices(log), users: 0 };
    holder[KEY] = shared;
    const { how, endpoints } = await shared.acquired;
    log(`using ${how}: KAFKA_BROKERS=${endpoints.kafkaBrokers} REDIS_URL=${endpoints.redisUrl}`);
  }
  shared.users++;
  const { endpoints } = await shared.acquired;
  project.provide('services', endpoints);
  return async () => {
    const current = holder[KEY] as Shared;
    current.users--;
    if (current.users === 0) {
      holder[KEY] = undefined;
      await (await current.acquired).release();
    }
  };
}
