import { Command } from 'commander';
import { parsePort } from '../flags.ts';
import type { Config, DeepPartial, RecsysConfig } from '../../shared/config/index.ts';
import { runServingProcess } from '../../services/serving/main.ts';

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
    .addHelpText(
      'after',
      `
Examples:
  KAFKA_BROKERS=localhost:9092 REDIS_URL=redis://localhost:6379 recsys serving
  recsys serving --port 8081 --metrics-port 9465

The API is documented at /docs (and /openapi.json). It serves what the trainer writes to the
model store; run "recsys trainer" next to it (or "recsys start" for both in one process).
Stop it with SIGTERM or Ctrl-C: it drains in-flight requests and exits 0.`,
    )
    .action(async (flags: { port?: number; host?: string; metricsPort?: number }) => {
      const config = loadConfig({
        serving: {
          ...(flags.port !== undefined ? { port: flags.port } : {}),
          ...(flags.host !== undefined ? { host: flags.host } : {}),
          ...(flags.metricsPort !== undefined ? { metricsPort: flags.metricsPort } : {}),
        },
      });
      setCode(await runServingProcess(config));
    });
}
