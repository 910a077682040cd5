import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import * as addFormatsModule from 'ajv-formats';
import type { FormatsPlugin } from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import type { Issue } from '../errors/index.ts';

// ajv-formats is CommonJS; its default export arrives wrapped under Node's ESM loader.
const formatsModule = addFormatsModule as unknown as { default: FormatsPlugin | { default: FormatsPlugin } };
const addFormats: FormatsPlugin =
  typeof formatsModule.default === 'function' ? formatsModule.default : formatsModule.default.default;

/**
 * The project's one Ajv instance for runtime validation. `strictNumbers` rejects NaN and
 * +/-Infinity (e.g. `1e400` in JSON parses to Infinity); no type coercion; no defaults injected.
 */
export const ajv = new Ajv({
  allErrors: true,
  strict: true,
  strictNumbers: true,
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false,
});
addFormats(ajv, ['date-time']);

/**
 * The same rules for URL query strings and path parameters, where every value arrives as a string:
 * `coerceTypes` turns "10" into 10 and "true" into true for fields declared as such (and only
 * those); anything that does not convert is rejected as usual.
 */
export const queryAjv = new Ajv({
  allErrors: true,
  strict: true,
  strictNumbers: true,
  coerceTypes: true,
  useDefaults: false,
  removeAdditional: false,
});
addFormats(queryAjv, ['date-time']);

const compiled = new WeakMap<TSchema, ValidateFunction>();
const compiledQuery = new WeakMap<TSchema, ValidateFunction>();

export function compileSchema<T>(schema: TSchema, coerce = false): ValidateFunction<T> {
  const cache = coerce ? compiledQuery : compiled;
  let fn = cache.get(schema);
  if (fn === undefined) {
    fn = (coerce ? queryAjv : ajv).compile(schema);
    cache.set(schema, fn);
  }
  return fn as ValidateFunction<T>;
}

/** Turns Ajv errors into issues with a path and a plain-language reason (at most `max`). */
export function toIssues(errors: readonly ErrorObject[] | null | undefined, max = 10): Issue[] {
  const issues: Issue[] = [];
  const seen = new Set<string>();
  for (const error of errors ?? []) {
    const issue = describe(error);
    if (issue === undefined) continue;
    const key = `${issue.path}\u0000${issue.reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
    if (issues.length >= max) break;
  }
  if (issues.length === 0 && errors && errors.length > 0) {
    const first = errors[0] as ErrorObject;
    issues.push({ path: first.instancePath || '/', reason: first.message ?? 'is invalid' });
  }
  return issues;
}

function describe(error: ErrorObject): Issue | undefined {
  const path = error.instancePath || '/';
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return { path, reason: `unknown field "${String(params['additionalProperty'])}"` };
    case 'required':
      return { path, reason: `missing required field "${String(params['missingProperty'])}"` };
    case 'propertyNames':
      return undefined; // reported by the nested 'pattern' error on the key itself
    case 'pattern':
      if (error.propertyName !== undefined) {
        return {
          path,
          reason: `key "${error.propertyName}" is not allowed (letters, digits, _ . : - only; never __proto__, constructor or prototype)`,
        };
      }
      return {
        path,
        reason: 'contains characters that are not allowed (control characters, or leading/trailing spaces)',
      };
    case 'anyOf':
      return { path, reason: 'does not match any allowed form' };
    case 'type':
      return { path, reason: `must be ${String(params['type'])}` };
    default:
      return { path, reason: error.message ?? 'is invalid' };
  }
}
