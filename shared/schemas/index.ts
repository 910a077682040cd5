export { InteractionEventSchema, eventTimeMs, type InteractionEvent } from './event.ts';
export { ItemRecordSchema, type ItemRecord } from './item.ts';
export { UserRecordSchema, type UserRecord } from './user.ts';
export { createEventCodec, type EventCodec, type EventCodecOptions } from './event-codec.ts';
export { createValidator, decodeUtf8, parseJson, type Result } from './parse.ts';
export { findForbiddenKey, findInputDefect, type InputDefect } from './forbidden-keys.ts';
export { LIMITS, ID_PATTERN, KEY_PATTERN, FORBIDDEN_KEYS } from './limits.ts';
export { ajv, compileSchema, toIssues } from './ajv.ts';
