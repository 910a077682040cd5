/**
 * The one catalogue of coded errors (STYLE.md "Errors"). Every error the project raises on purpose
 * has a stable code here, the HTTP status it maps to where it faces HTTP, and whether retrying can
 * help. `docs/errors.md` documents every code with how to solve it; a unit test keeps the two in step.
 */
export interface ErrorSpec {
  /** HTTP status when the error reaches an HTTP client. */
  readonly status: number;
  /** True when the same operation may succeed later without changing the input. */
  readonly retriable: boolean;
  /** One-line default message; callers usually pass a more precise one. */
  readonly message: string;
}

export const ERROR_CATALOGUE = {
  // Input validation: never retriable, always a 4xx.
  VALIDATION_FAILED: { status: 400, retriable: false, message: 'The input does not match the schema.' },
  EVENT_INVALID: {
    status: 400,
    retriable: false,
    message: 'The interaction event does not match the schema.',
  },
  MALFORMED_JSON: { status: 400, retriable: false, message: 'The body is not valid JSON.' },
  FORBIDDEN_KEY: {
    status: 400,
    retriable: false,
    message: 'The input contains a forbidden key (__proto__, constructor or prototype).',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    retriable: false,
    message: 'The input is larger than the configured limit.',
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    retriable: false,
    message: 'The request line and headers are larger than the server accepts.',
  },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retriable: false, message: 'The content type is not supported.' },
  NOT_FOUND: { status: 404, retriable: false, message: 'No such resource.' },
  ROUTE_NOT_FOUND: { status: 404, retriable: false, message: 'No such route.' },
  UNAUTHORIZED: { status: 401, retriable: false, message: 'A valid API key is required.' },
  FORBIDDEN: { status: 403, retriable: false, message: 'This API key may not use this route.' },
  METHOD_NOT_ALLOWED: { status: 405, retriable: false, message: 'The route does not accept this method.' },
  REQUEST_TIMEOUT: { status: 408, retriable: true, message: 'The request was not received in time.' },
  RESULT_EXPIRED: {
    status: 410,
    retriable: false,
    message: 'The ranking for this resultId expired; request the first page again.',
  },
  RESULT_MISMATCH: {
    status: 409,
    retriable: false,
    message: 'A later page asked for other filters than the ranking was made with.',
  },
  RATE_LIMITED: {
    status: 429,
    retriable: true,
    message: 'Too many requests; retry after the indicated delay.',
  },
  // Configuration and start-up: fail fast with the fix in the message.
  CONFIG_INVALID: { status: 500, retriable: false, message: 'The configuration is invalid.' },
  DATASET_NOT_FOUND: { status: 500, retriable: false, message: 'The data set could not be found.' },
  DATASET_INVALID: { status: 500, retriable: false, message: 'The data set could not be parsed.' },
  BACKEND_UNAVAILABLE: {
    status: 500,
    retriable: false,
    message: 'The requested TF.js backend is not available.',
  },
  // Infrastructure: retriable, surfaced to HTTP as a deliberate 503.
  STORE_UNAVAILABLE: { status: 503, retriable: true, message: 'The model store is unavailable.' },
  LOG_UNAVAILABLE: { status: 503, retriable: true, message: 'The event log is unavailable.' },
  NOT_READY: { status: 503, retriable: true, message: 'The service is not ready yet.' },
  METRICS_UNAVAILABLE: {
    status: 503,
    retriable: true,
    message: "The serving cluster's metrics could not be gathered.",
  },
  // Consistency.
  OFFSET_FENCED: {
    status: 409,
    retriable: false,
    message: 'The batch does not start at the stored offset of its partition; another consumer owns it.',
  },
  DATA_DIR_IN_USE: {
    status: 409,
    retriable: false,
    message: 'Another recsys process owns the embedded data folder.',
  },
  NON_FINITE_VALUE: {
    status: 500,
    retriable: false,
    message: 'A computed value is NaN or infinite; the update was rejected.',
  },
  INTERNAL: { status: 500, retriable: false, message: 'An unexpected error occurred.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];
