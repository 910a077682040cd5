import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export interface LoggerConfig {
  readonly level: string;
  /** Human-readable single-line output instead of JSON (for terminals). */
  readonly pretty?: boolean;
  /** Service name put on every line. */
  readonly name?: string;
}

/**
 * The one pino logger of a process. Components take `logger.child({ component })`; nothing else
 * creates a logger. Pass `destination` in tests to capture lines.
 */
export function createLogger(config: LoggerConfig, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: config.level,
    base: config.name === undefined ? {} : { service: config.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]'], remove: true },
  };
  if (destination !== undefined) return pino(options, destination);
  if (config.pretty === true) return pino(options, prettyDestination());
  return pino(options, pino.destination({ dest: 2, sync: false }));
}

/** A minimal pretty printer (no extra dependency): `HH:MM:SS level [component] msg key=value`. */
function prettyDestination(): DestinationStream {
  return {
    write(line: string): void {
      try {
        const {
          time,
          level,
          msg,
          component,
          service: _service,
          ...rest
        } = JSON.parse(line) as Record<string, unknown>;
        const clock = typeof time === 'string' ? time.slice(11, 19) : '';
        const extras = Object.entries(rest)
          .filter(([key]) => key !== 'pid' && key !== 'hostname')
          .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
          .join(' ');
        const where = typeof component === 'string' ? ` [${component}]` : '';
        process.stderr.write(
          `${clock} ${String(level).padEnd(5)}${where} ${String(msg ?? '')}${extras ? ` ${extras}` : ''}\n`,
        );
      } catch {
        process.stderr.write(line);
      }
    },
  };
}

/** A logger that drops everything: the default collaborator in unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
