/**
 * Size limits on everything a client can send. They bound memory and CPU per input and keep ids
 * usable as Redis keys and metric-free log fields. Changing them is a contract change.
 */
export const LIMITS = {
  /** userId, itemId, eventId. */
  idMaxLength: 256,
  /** Keys of context, attributes and similar maps. */
  keyMaxLength: 64,
  /** String values in context and attributes; tags and categories. */
  valueMaxLength: 256,
  /** Entries in a context or attributes map. */
  mapMaxEntries: 32,
  /** Tags or categories on one item or user. */
  listMaxEntries: 64,
  /** Free text such as an item title. */
  textMaxLength: 1024,
} as const;

/** Ids: printable, no control characters, no surrounding whitespace. */
export const ID_PATTERN =
  '^[^\\s\\u0000-\\u001f\\u007f](?:[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-\\u001f\\u007f])?$';

/** Map keys: a conservative identifier, and never one that can reach an object's prototype. */
export const KEY_PATTERN = '^(?!(?:__proto__|constructor|prototype)$)[A-Za-z_][A-Za-z0-9_.:-]{0,63}$';

/** Keys that must never appear anywhere in an input object. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
