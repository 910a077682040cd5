import sjson from 'secure-json-parse';
import type { TSchema } from '@sinclair/typebox';
import { RecsysError, type ErrorCode } from '../errors/index.ts';
import { compileSchema, toIssues } from './ajv.ts';
import { findInputDefect } from './forbidden-keys.ts';

export type Result<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: RecsysError };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes as UTF-8 text, or MALFORMED_JSON: a lenient decoder would replace bad bytes with U+FFFD,
 * and distinct bad ids would collapse into one.
 */
export function decodeUtf8(bytes: Uint8Array): Result<string> {
  try {
    return { ok: true, value: utf8.decode(bytes) };
  } catch {
    return {
      ok: false,
      error: new RecsysError('MALFORMED_JSON', {
        message: 'The input is not valid JSON: it is not valid UTF-8.',
        issues: [{ path: '/', reason: 'is not valid UTF-8' }],
      }),
    };
  }
}

/**
 * Parses JSON text without letting `__proto__` or `constructor.prototype` through (secure-json-parse
 * throws on both, which we turn into FORBIDDEN_KEY).
 */
export function parseJson(text: string): Result<unknown> {
  try {
    return {
      ok: true,
      value: sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }),
    };
  } catch (cause) {
    const message = (cause as Error).message ?? '';
    if (/prototype/i.test(message)) {
      return {
        ok: false,
        error: new RecsysError('FORBIDDEN_KEY', {
          issues: [{ path: '/', reason: 'contains a __proto__ or constructor.prototype key' }],
        }),
      };
    }
    return {
      ok: false,
      error: new RecsysError('MALFORMED_JSON', {
        message: `The input is not valid JSON: ${message.slice(0, 200)}`,
        issues: [{ path: '/', reason: 'is not valid JSON' }],
      }),
    };
  }
}

/**
 * A runtime validator for one schema: unknown fields, forbidden keys, non-finite numbers and size
 * limits are rejected with a catalogued error carrying the field path and reason.
 */
export function createValidator<T>(
  schema: TSchema,
  code: ErrorCode = 'VALIDATION_FAILED',
  what = 'input',
  /** Convert strings to the declared types first (query strings, path parameters). */
  coerce = false,
) {
  const check = compileSchema<T>(schema, coerce);
  return (value: unknown): Result<T> => {
    const defect = findInputDefect(value);
    if (defect?.kind === 'forbidden-key') {
      return {
        ok: false,
        error: new RecsysError('FORBIDDEN_KEY', {
          message: `The ${what} contains the forbidden key at ${defect.path}.`,
          issues: [{ path: defect.path, reason: 'forbidden key (__proto__, constructor or prototype)' }],
        }),
      };
    }
    if (defect !== undefined) {
      const issues = [
        {
          path: defect.path,
          reason:
            defect.kind === 'non-finite'
              ? 'must be a finite number (NaN and Infinity are not allowed)'
              : 'must be Unicode text (it has a lone surrogate, e.g. "\\ud800")',
        },
      ];
      return { ok: false, error: new RecsysError(code, { message: describeIssues(what, issues), issues }) };
    }
    if (check(value)) return { ok: true, value };
    const issues = toIssues(check.errors);
    return { ok: false, error: new RecsysError(code, { message: describeIssues(what, issues), issues }) };
  };
}

export function describeIssues(what: string, issues: readonly { path: string; reason: string }[]): string {
  const first = issues
    .slice(0, 3)
    .map((issue) => `${issue.path} ${issue.reason}`)
    .join('; ');
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : '';
  return `Invalid ${what}: ${first}${more}.`;
}
