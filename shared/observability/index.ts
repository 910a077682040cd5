export { createLogger, silentLogger, type Logger, type LoggerConfig } from './logger.ts';
export { createMetricsRegistry, type MetricsRegistryOptions } from './metrics.ts';
export { filterKnownWarnings } from './warnings.ts';
export { probe, PROBE_TIMEOUT_MS } from './probe.ts';
