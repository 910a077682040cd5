import { Type } from '@sinclair/typebox';
import { ID_PATTERN, KEY_PATTERN, LIMITS } from './limits.ts';

/** A user, item or event id. */
export const Id = (description: string) =>
  Type.String({ minLength: 1, maxLength: LIMITS.idMaxLength, pattern: ID_PATTERN, description });

/** A short label: a tag, a category, a context value. */
export const Label = Type.String({ minLength: 1, maxLength: LIMITS.valueMaxLength });

/** A list of labels without duplicates. */
export const LabelList = (description: string) =>
  Type.Array(Label, { maxItems: LIMITS.listMaxEntries, uniqueItems: true, description });

/** A scalar attribute value: strings are categorical, numbers numeric, booleans flags. */
export const Scalar = Type.Union([
  Type.String({ maxLength: LIMITS.valueMaxLength }),
  Type.Number(),
  Type.Boolean(),
]);

/** A small map from safe keys to scalars (context, attributes). */
export const ScalarMap = (description: string) =>
  Type.Record(Type.String({ pattern: KEY_PATTERN }), Scalar, {
    maxProperties: LIMITS.mapMaxEntries,
    description,
  });

/**
 * The context fields recsys itself reads (shared/model/context.ts), each with its range: a value
 * out of range is an error, never silently replaced (an `hour` of 99 used to become the current
 * hour). Query strings and the OpenAPI document list them from here.
 */
export const CONTEXT_FIELDS = {
  hour: Type.Integer({ minimum: 0, maximum: 23, description: 'Hour of day, 0-23 (UTC when absent).' }),
  dow: Type.Integer({ minimum: 0, maximum: 6, description: 'Day of week, 0 (Sunday) to 6.' }),
  device: Type.String({
    minLength: 1,
    maxLength: LIMITS.valueMaxLength,
    description: 'Device class, e.g. mobile, desktop, tablet.',
  }),
};

/** The documented context fields as optional properties (of a context map, of a query string). */
export const CONTEXT_PROPERTIES = {
  hour: Type.Optional(CONTEXT_FIELDS.hour),
  dow: Type.Optional(CONTEXT_FIELDS.dow),
  device: Type.Optional(CONTEXT_FIELDS.device),
};

/** Request or event context: the documented fields checked, any other field a scalar (as is). */
export const ContextMap = (description: string) =>
  Type.Object(CONTEXT_PROPERTIES, {
    additionalProperties: Scalar,
    propertyNames: { pattern: KEY_PATTERN },
    maxProperties: LIMITS.mapMaxEntries,
    description,
  });
