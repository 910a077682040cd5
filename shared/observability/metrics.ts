import { Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsRegistryOptions {
  /** Service name, added as the `service` label to every metric of this registry. */
  readonly service: string;
  /** Collect the default Node.js process metrics (heap, event-loop lag, GC, ...). */
  readonly defaultMetrics?: boolean;
}

/**
 * An explicit prom-client Registry per process (never the global one), passed to every component
 * that records metrics. All metric names start with `recsys_` (see docs/operations.md).
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry, prefix: 'recsys_' });
  }
  return registry;
}
