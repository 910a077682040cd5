import cluster from 'node:cluster';
import { Command } from 'commander';
import { parsePort, parseWorkers } from '../flags.ts';
import type { Config, DeepPartial, RecsysConfig } from '../../shared/config/index.ts';
import { servingWorkerCount } from '../../services/serving/process/cluster.ts';
import { runServingProcess } from '../../services/serving/main.ts';
import { launchEnvironment, restartWithServingHeapFlags } from '../heap-restart.ts';

export function serveCommand(
  loadConfig: (overrides: DeepPartial<Config>) => RecsysConfig,
  setCode: (code: number) => void,
): Command {
  return new Command('serving')
    .alias('serve')
    .description('answer recommendation, catalog and event-ingest requests over HTTP (the serving service)')
    .option('--port <port>', 'port of the HTTP API (default from config: 8080)', parsePort)
    .option('--host <host>', 'address to bind (default from config: 127.0.0.1; 0.0.0.0 in containers)')
    .option(
      '--metrics-port <port>',
      'serve /metrics on this separate port instead of the API port',
      parsePort,
    )
    .option(
      '--workers <n>',
      'serving processes sharing the port, 0 = one per core (default from config: 1; above 1 needs Redis and Kafka)',
      parseWorkers,
    )
    .addHelpText(
      'after',
      `
Examples:
  KAFKA_BROKERS=localhost:9092 REDIS_URL=redis://localhost:6379 recsys serving
  recsys serving --port 8081 --metrics-port 9465
  KAFKA_BROKERS=localhost:9092 REDIS_URL=redis://localhost:6379 recsys serving --workers 0

The API is documented at /docs (and /openapi.json). It serves what the trainer writes to the
model store; run "recsys trainer" next to it (or "recsys start" for both in one process).
With --workers N (N > 1, or 0 for one per core) a primary process forks N serving processes that
share the port (node:cluster), restarts one that crashes, and serves every worker's metrics summed
on /metrics (docs/serving.md, "Workers").
Stop it with SIGTERM or Ctrl-C: it drains in-flight requests and exits 0.`,
    )
    .action(async (flags: { port?: number; host?: string; metricsPort?: number; workers?: number }) => {
      const config = loadConfig({
        serving: {
          ...(flags.port !== undefined ? { port: flags.port } : {}),
          ...(flags.host !== undefined ? { host: flags.host } : {}),
          ...(flags.metricsPort !== undefined ? { metricsPort: flags.metricsPort } : {}),
          ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
        },
      });
      // One process takes serving's heap flags by restarting in place; workers get them when forked.
      if (cluster.isPrimary && servingWorkerCount(config) === 1) restartWithServingHeapFlags(config);
      setCode(await runServingProcess(config, { nodeOptions: launchEnvironment().NODE_OPTIONS }));
    });
}
