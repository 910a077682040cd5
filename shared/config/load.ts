import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { RecsysError, type Issue } from '../errors/index.ts';
import { defaultConfig } from './defaults.ts';
import { ENV_BINDINGS, type EnvBinding } from './env.ts';
import { ConfigSchema, type Config, type RecsysConfig } from './schema.ts';

export interface LoadConfigOptions {
  /** Environment to read; defaults to process.env (the only place the project reads it). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** JSON config file; defaults to $RECSYS_CONFIG when set. */
  readonly file?: string;
  /** Last layer, e.g. from command-line flags. */
  readonly overrides?: DeepPartial<Config>;
}

export type DeepPartial<T> = T extends (infer U)[]
  ? U[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

const ajv = new Ajv({ allErrors: true, strict: true });
const validateConfig = ajv.compile(ConfigSchema);

/**
 * Reads the configuration once: defaults, then the optional JSON file, then the environment, then
 * explicit overrides; validates the result (unknown keys and cross-field mistakes fail with the fix
 * in the message) and returns it deeply frozen.
 */
export function loadConfig(options: LoadConfigOptions = {}): RecsysConfig {
  const env = options.env ?? process.env;
  const config: Config = defaultConfig();
  const origin = new Map<string, string>();

  const file = options.file ?? nonEmpty(env['RECSYS_CONFIG']);
  if (file !== undefined) {
    mergeInto(config, readConfigFile(file), [], origin, `config file ${file}`);
  }
  for (const binding of ENV_BINDINGS) {
    const raw = env[binding.name];
    if (raw === undefined || (raw === '' && binding.parse !== 'string' && binding.parse !== 'list')) continue;
    setPath(config, binding.path, parseEnv(binding, raw));
    origin.set(binding.path.join('.'), `environment variable ${binding.name}`);
  }
  if (options.overrides !== undefined) {
    mergeInto(config, options.overrides as Record<string, unknown>, [], origin, 'command-line option');
  }

  if (config.kafka.deadLetterTopic === '') config.kafka.deadLetterTopic = `${config.kafka.topic}.dlq`;

  if (!validateConfig(config)) {
    throw new RecsysError('CONFIG_INVALID', {
      message: `Invalid configuration: ${describeAjvErrors(validateConfig.errors ?? [], origin)}`,
      issues: (validateConfig.errors ?? []).map((e) => ajvIssue(e)),
    });
  }
  checkCrossField(config);
  return deepFreeze(config);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new RecsysError('CONFIG_INVALID', {
      message: `Cannot read config file ${file}: ${(cause as Error).message}. Fix the path in RECSYS_CONFIG or --config.`,
      cause,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new RecsysError('CONFIG_INVALID', {
      message: `Config file ${file} is not valid JSON: ${(cause as Error).message}`,
      cause,
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new RecsysError('CONFIG_INVALID', { message: `Config file ${file} must hold a JSON object.` });
  }
  return parsed as Record<string, unknown>;
}

function parseEnv(binding: EnvBinding, raw: string): unknown {
  const value = raw.trim();
  switch (binding.parse) {
    case 'string':
      return value;
    case 'list':
      return value === ''
        ? []
        : value
            .split(',')
            .map((part) => part.trim())
            .filter((part) => part !== '');
    case 'int': {
      if (!/^-?\d+$/.test(value)) {
        throw new RecsysError('CONFIG_INVALID', {
          message: `${binding.name}=${JSON.stringify(raw)} is not an integer (${binding.description}).`,
          issues: [{ path: `/${binding.path.join('/')}`, reason: 'must be an integer' }],
        });
      }
      return Number(value);
    }
    case 'bool': {
      const lower = value.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(lower)) return false;
      throw new RecsysError('CONFIG_INVALID', {
        message: `${binding.name}=${JSON.stringify(raw)} is not a boolean; use true or false.`,
        issues: [{ path: `/${binding.path.join('/')}`, reason: 'must be a boolean' }],
      });
    }
  }
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function mergeInto(
  target: Record<string, unknown> | Config,
  source: Record<string, unknown>,
  path: string[],
  origin: Map<string, string>,
  from: string,
): void {
  const out = target as Record<string, unknown>;
  for (const [key, value] of Object.entries(source)) {
    if (FORBIDDEN_KEYS.has(key)) {
      throw new RecsysError('CONFIG_INVALID', { message: `Forbidden key "${key}" in ${from}.` });
    }
    const here = [...path, key];
    const current = out[key];
    if (isPlainObject(value) && isPlainObject(current) && !isRecordField(here)) {
      mergeInto(current, value, here, origin, from);
    } else {
      out[key] = value;
      origin.set(here.join('.'), from);
    }
  }
}

/** Maps that are replaced as a whole rather than merged key by key. */
function isRecordField(path: readonly string[]): boolean {
  return path.join('.') === 'events.types';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function setPath(target: Config, path: readonly string[], value: unknown): void {
  let node = target as unknown as Record<string, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path[path.length - 1] as string] = value;
}

function ajvIssue(error: ErrorObject): Issue {
  const extra =
    error.keyword === 'additionalProperties'
      ? ` (unknown key "${String((error.params as { additionalProperty: string }).additionalProperty)}")`
      : '';
  return { path: error.instancePath || '/', reason: `${error.message ?? 'is invalid'}${extra}` };
}

function describeAjvErrors(errors: readonly ErrorObject[], origin: Map<string, string>): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const error of errors) {
    if (error.keyword === 'anyOf' || error.keyword === 'const') continue;
    const issue = ajvIssue(error);
    const dotted = issue.path.replace(/^\//, '').replaceAll('/', '.');
    const source = findOrigin(dotted, origin);
    const text = `${dotted || '(root)'} ${issue.reason}${source ? ` (from ${source})` : ''}`;
    if (!seen.has(text)) {
      seen.add(text);
      parts.push(text);
    }
  }
  if (parts.length === 0 && errors.length > 0) {
    const first = errors[0] as ErrorObject;
    parts.push(`${first.instancePath || '(root)'} ${first.message ?? 'is invalid'}`);
  }
  return parts.join('; ');
}

function findOrigin(dotted: string, origin: Map<string, string>): string | undefined {
  for (
    let path = dotted;
    path !== '';
    path = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : ''
  ) {
    const found = origin.get(path);
    if (found !== undefined) return found;
  }
  return undefined;
}

function checkCrossField(config: Config): void {
  const { kafka, redis } = config;
  if (kafka.heartbeatIntervalMs >= kafka.sessionTimeoutMs) {
    throw new RecsysError('CONFIG_INVALID', {
      message: `kafka.heartbeatIntervalMs (${kafka.heartbeatIntervalMs}) must be lower than kafka.sessionTimeoutMs (${kafka.sessionTimeoutMs}); set it to about a third of the session timeout.`,
    });
  }
  if (kafka.topic === kafka.deadLetterTopic) {
    throw new RecsysError('CONFIG_INVALID', {
      message: `kafka.deadLetterTopic must differ from kafka.topic ("${kafka.topic}"), or bad events would be consumed again.`,
    });
  }
  for (const broker of kafka.brokers) {
    if (!/^[^\s:/]+:\d{1,5}$/.test(broker)) {
      throw new RecsysError('CONFIG_INVALID', {
        message: `Kafka broker "${broker}" must be host:port, e.g. KAFKA_BROKERS=localhost:9092.`,
      });
    }
  }
  if (redis.url !== '' && !/^rediss?:\/\/[^\s]+$/.test(redis.url)) {
    throw new RecsysError('CONFIG_INVALID', {
      message: `REDIS_URL "${redis.url}" must look like redis://host:port (or rediss:// for TLS).`,
    });
  }
  for (const [name, spec] of Object.entries(config.events.types)) {
    if (spec.kind === 'explicit' && spec.weight <= 0) {
      throw new RecsysError('CONFIG_INVALID', {
        message: `events.types.${name} is explicit (a rating) and needs a positive weight.`,
      });
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
