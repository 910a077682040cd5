/**
 * npm run services:up | services:down | services:status
 *
 * Starts (or stops) a real Redis and a real Apache Kafka broker on free loopback ports, for
 * machines without Docker. See scripts/local-services.ts for how.
 */
import { filterKnownWarnings } from '../shared/observability/warnings.ts';
import { ENV_FILE, envLines, runningState, servicesDown, servicesUp } from './local-services.ts';

filterKnownWarnings();

const say = (line: string): void => {
  process.stderr.write(`services: ${line}\n`);
};

async function main(command: string | undefined, flags: string[]): Promise<number> {
  switch (command) {
    case 'up': {
      const endpoints = await servicesUp(say);
      process.stdout.write(envLines(endpoints));
      say(`written to ${ENV_FILE}; stop with npm run services:down`);
      return 0;
    }
    case 'down':
      await servicesDown(say, { clean: flags.includes('--clean') });
      say('stopped');
      return 0;
    case 'status': {
      const state = await runningState();
      if (state === undefined) {
        say('not running (npm run services:up starts them)');
        return 1;
      }
      process.stdout.write(envLines(state));
      return 0;
    }
    default:
      process.stderr.write('usage: node scripts/services.ts up | down [--clean] | status\n');
      return 2;
  }
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`services: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
