export { ERROR_CATALOGUE, ERROR_CODES, type ErrorCode, type ErrorSpec } from './catalogue.ts';
export {
  RecsysError,
  isRecsysError,
  isRetriable,
  type Issue,
  type RecsysErrorOptions,
} from './recsys-error.ts';
