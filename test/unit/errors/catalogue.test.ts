import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, ERROR_CODES, RecsysError, isRetriable } from '../../../shared/errors/index.ts';

describe('error catalogue', () => {
  it('documents every code in docs/errors.md, and nothing else', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^### `([A-Z_]+)`/gm)].map((m) => m[1]);
    expect([...documented].sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const section = doc.slice(doc.indexOf(`### \`${code}\``)).split('\n### ')[0] as string;
      expect(section, code).toContain(`HTTP ${ERROR_CATALOGUE[code].status}`);
      expect(section, code).toContain(ERROR_CATALOGUE[code].retriable ? 'Retriable: yes' : 'Retriable: no');
    }
  });

  it('gives client errors 4xx and only infrastructure errors the retriable flag', () => {
    for (const code of ERROR_CODES) {
      const spec = ERROR_CATALOGUE[code];
      if (spec.retriable) expect([408, 429, 503]).toContain(spec.status);
    }
    expect(ERROR_CATALOGUE.VALIDATION_FAILED.status).toBe(400);
  });

  it('carries code, status, issues and cause, and serializes without stack or cause', () => {
    const cause = new Error('socket closed');
    const error = new RecsysError('STORE_UNAVAILABLE', {
      message: 'Redis down',
      cause,
      issues: [{ path: '/', reason: 'x' }],
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.cause).toBe(cause);
    expect(error.status).toBe(503);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: 'STORE_UNAVAILABLE',
      message: 'Redis down',
      issues: [{ path: '/', reason: 'x' }],
    });
    expect(isRetriable(error)).toBe(true);
    expect(isRetriable(new TypeError('bug'))).toBe(false);
    expect(isRetriable(new RecsysError('EVENT_INVALID'))).toBe(false);
  });
});
