import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { main } from '../../../cli/main.ts';
import { parse } from 'yaml';
import { composeSpecSchema } from '../../support/compose-schema.ts';

const root = resolve(import.meta.dirname, '../../..');

async function validator() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  return ajv.compile(await composeSpecSchema());
}

describe('docker-compose.yml', () => {
  it('is valid under the Compose Specification JSON schema', async () => {
    const validate = await validator();
    const compose = parse(readFileSync(resolve(root, 'docker-compose.yml'), 'utf8'), {
      merge: true,
    }) as unknown;
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('is checked for real: the schema rejects a broken service', async () => {
    const validate = await validator();
    expect(validate({ services: { web: { image: ['x'], deploy: { resources: 'lots' } } } })).toBe(false);
    expect(validate({ services: { web: { image: 'x', unknownKey: true } } })).toBe(false);
  });

  it('runs Redis with AOF and noeviction, and Kafka in KRaft mode', () => {
    const compose = parse(readFileSync(resolve(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { command?: string[]; image?: string; environment?: Record<string, unknown> }>;
    };
    expect(compose.services['redis']?.command).toEqual(
      expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']),
    );
    expect(compose.services['kafka']?.image).toMatch(/^apache\/kafka:4\./);
    expect(compose.services['kafka']?.environment?.['KAFKA_PROCESS_ROLES']).toBe('broker,controller');
    for (const name of ['trainer', 'serving']) {
      expect(compose.services[name]?.environment?.['KAFKA_BROKERS']).toBe('kafka:9092');
      expect(compose.services[name]?.environment?.['REDIS_URL']).toBe('redis://redis:6379');
    }
  });

  it('runs, in every service built from the Dockerfile, a command the image entry point knows', async () => {
    const dockerfile = readFileSync(resolve(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/recsys\.mjs"\]$/m);
    const compose = parse(readFileSync(resolve(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { command?: string[]; build?: unknown }>;
    };
    const built = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);
    expect(built.map(([name]) => name).sort()).toEqual(['generator', 'serving', 'trainer']);
    for (const [, service] of built) {
      let out = '';
      const io = {
        stdout: { write: (s: string) => (out += s) },
        stderr: { write: (s: string) => (out += s) },
      };
      // Compose interpolation with a default (${VAR:-value}) becomes its default.
      const args = (service.command ?? []).map((arg) => arg.replace(/^\$\{[A-Z_]+:-([^}]*)\}$/, '$1'));
      const code = await main([...args, '--help'], io as never);
      expect(code).toBe(0);
      expect(out).toMatch(new RegExp(`^Usage: recsys ${service.command?.[0]}`));
    }
  });

  it('starts in order, restarts, limits resources, mounts the repository ops files and holds no secrets', () => {
    const compose = parse(readFileSync(resolve(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<
        string,
        {
          restart?: string;
          healthcheck?: unknown;
          depends_on?: Record<string, { condition: string }>;
          deploy?: { resources?: { limits?: { memory?: string } } };
          volumes?: string[];
          environment?: Record<string, unknown>;
          profiles?: string[];
        }
      >;
    };
    const services = compose.services;
    expect(Object.keys(services).sort()).toEqual(
      ['generator', 'grafana', 'kafka', 'prometheus', 'redis', 'serving', 'trainer'].sort(),
    );
    for (const [name, service] of Object.entries(services)) {
      expect(service.restart, name).toMatch(/unless-stopped|on-failure|always/);
      expect(service.deploy?.resources?.limits?.memory, name).toBeDefined();
      if (name !== 'generator') expect(service.healthcheck, name).toBeDefined();
      for (const [key, value] of Object.entries(service.environment ?? {}))
        if (/PASSWORD|SECRET|API_KEYS/.test(key)) expect(String(value), `${name} ${key}`).toMatch(/^\$\{/);
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] as string;
        if (source.startsWith('./')) expect(existsSync(resolve(root, source)), volume).toBe(true);
      }
    }
    expect(services['trainer']?.depends_on?.['kafka']?.condition).toBe('service_healthy');
    expect(services['grafana']?.depends_on?.['prometheus']?.condition).toBe('service_healthy');
    expect(services['generator']?.profiles).toEqual(['demo']);
    // Every variable the compose file interpolates is documented in .env.example.
    const text = readFileSync(resolve(root, 'docker-compose.yml'), 'utf8');
    const example = readFileSync(resolve(root, '.env.example'), 'utf8');
    for (const [, variable] of text.matchAll(/\$\{([A-Z_]+)/g))
      expect(example, variable).toMatch(new RegExp(`^${variable}=`, 'm'));
  });
});
