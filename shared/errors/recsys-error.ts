import { ERROR_CATALOGUE, type ErrorCode } from './catalogue.ts';

/** One problem in an input: where (a JSON-pointer-like path) and why. */
export interface Issue {
  readonly path: string;
  readonly reason: string;
}

export interface RecsysErrorOptions {
  readonly message?: string;
  readonly issues?: readonly Issue[];
  readonly cause?: unknown;
}

/**
 * An error with a stable code from the catalogue. Retry policies read `retriable`; HTTP handlers
 * read `status`; nothing parses `message`.
 */
export class RecsysError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  readonly issues: readonly Issue[];

  constructor(code: ErrorCode, options: RecsysErrorOptions = {}) {
    const spec = ERROR_CATALOGUE[code];
    super(
      options.message ?? spec.message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'RecsysError';
    this.code = code;
    this.status = spec.status;
    this.retriable = spec.retriable;
    this.issues = options.issues ?? [];
  }

  /** The JSON body an HTTP client or a dead-letter record gets: no stack, no cause. */
  toJSON(): { code: ErrorCode; message: string; issues?: readonly Issue[] } {
    return this.issues.length > 0
      ? { code: this.code, message: this.message, issues: this.issues }
      : { code: this.code, message: this.message };
  }
}

export function isRecsysError(value: unknown): value is RecsysError {
  return value instanceof RecsysError;
}

/** True when retrying can help: a catalogued retriable error. Never true for a TypeError or the like. */
export function isRetriable(error: unknown): boolean {
  return isRecsysError(error) && error.retriable;
}
