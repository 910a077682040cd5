import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig, describeDeployment, loadConfig } from '../../../shared/config/index.ts';
import { isRecsysError, type RecsysError } from '../../../shared/errors/index.ts';

const dirs: string[] = [];
function file(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-config-'));
  dirs.push(dir);
  const path = join(dir, 'config.json');
  writeFileSync(path, content);
  return path;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configError(fn: () => unknown): RecsysError {
  try {
    fn();
  } catch (error) {
    if (isRecsysError(error)) return error;
    throw error;
  }
  throw new Error('expected a CONFIG_INVALID error');
}

describe('loadConfig', () => {
  it('defaults to the embedded adapters with nothing set', () => {
    const config = loadConfig({ env: {} });
    expect(describeDeployment(config)).toEqual({ eventLog: 'memory', modelStore: 'memory' });
    expect(config.serving.port).toBe(8080);
    expect(config.events.types['purchase']?.weight).toBeGreaterThan(
      config.events.types['click']?.weight ?? 0,
    );
  });

  it('layers file < environment < overrides and freezes the result', () => {
    const path = file(JSON.stringify({ serving: { port: 9000, host: '0.0.0.0' }, kafka: { partitions: 8 } }));
    const config = loadConfig({
      env: {
        RECSYS_CONFIG: path,
        PORT: '9100',
        KAFKA_BROKERS: 'a:9092, b:9093',
        REDIS_URL: 'redis://r:6379',
      },
      overrides: { log: { level: 'debug' } },
    });
    expect(config.serving).toMatchObject({ port: 9100, host: '0.0.0.0' });
    expect(config.serving.bodyLimitBytes).toBe(defaultConfig().serving.bodyLimitBytes);
    expect(config.kafka.partitions).toBe(8);
    expect(config.kafka.brokers).toEqual(['a:9092', 'b:9093']);
    expect(config.log.level).toBe('debug');
    expect(describeDeployment(config)).toEqual({ eventLog: 'kafka', modelStore: 'redis' });
    expect(Object.isFrozen(config.serving)).toBe(true);
    expect(() => {
      (config.serving as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('replaces the event type table from a file rather than merging it', () => {
    const path = file(JSON.stringify({ events: { types: { click: { weight: 1, kind: 'implicit' } } } }));
    const config = loadConfig({ env: {}, file: path });
    expect(Object.keys(config.events.types)).toEqual(['click']);
  });

  it('rejects unknown keys with the path and where the value came from', () => {
    const path = file(JSON.stringify({ serving: { prot: 1 } }));
    const error = configError(() => loadConfig({ env: {}, file: path }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('unknown key "prot"');
    expect(error.message).toContain('serving');
  });

  it('names the environment variable behind a bad value', () => {
    const error = configError(() => loadConfig({ env: { RECSYS_EVENTS_PARTITIONS: '0' } }));
    expect(error.message).toContain('kafka.partitions');
    expect(error.message).toContain('RECSYS_EVENTS_PARTITIONS');
    expect(configError(() => loadConfig({ env: { PORT: '80x' } })).message).toContain(
      'PORT="80x" is not an integer',
    );
    expect(configError(() => loadConfig({ env: { LOG_PRETTY: 'maybe' } })).message).toContain(
      'true or false',
    );
  });

  it('fails cross-field mistakes with the fix in the message', () => {
    const path = file(JSON.stringify({ kafka: { heartbeatIntervalMs: 40_000 } }));
    expect(configError(() => loadConfig({ env: {}, file: path })).message).toMatch(
      /heartbeatIntervalMs.*lower than.*sessionTimeoutMs.*a third/,
    );
    expect(configError(() => loadConfig({ env: { REDIS_URL: 'localhost:6379' } })).message).toContain(
      'redis://host:port',
    );
    expect(configError(() => loadConfig({ env: { KAFKA_BROKERS: 'localhost' } })).message).toContain(
      'host:port',
    );
    expect(
      configError(() => loadConfig({ env: { RECSYS_DEAD_LETTER_TOPIC: 'recsys.events' } })).message,
    ).toContain('must differ');
  });

  it('reports an unreadable or malformed config file clearly', () => {
    expect(configError(() => loadConfig({ env: {}, file: '/nonexistent/recsys.json' })).message).toContain(
      'Cannot read config file',
    );
    expect(configError(() => loadConfig({ env: {}, file: file('{ nope') })).message).toContain(
      'not valid JSON',
    );
    expect(configError(() => loadConfig({ env: {}, file: file('[1]') })).message).toContain('JSON object');
    expect(
      configError(() => loadConfig({ env: {}, file: file('{"serving": {"__proto__": {"port": 1}}}') }))
        .message,
    ).toMatch(/Forbidden key|unknown key/);
  });
});

describe('docs/configuration.md and the README', () => {
  it('each document every environment variable the config reads', async () => {
    const { readFileSync } = await import('node:fs');
    const { ENV_BINDINGS } = await import('../../../shared/config/index.ts');
    // The README's table says "Every environment variable", so it is held to it too.
    for (const file of ['../../../docs/configuration.md', '../../../README.md']) {
      const doc = readFileSync(new URL(file, import.meta.url), 'utf8');
      for (const binding of ENV_BINDINGS) {
        expect(doc, `${file}: ${binding.name}`).toContain(
          `| \`${binding.name}\` | \`${binding.path.join('.')}\``,
        );
      }
    }
  });
});
