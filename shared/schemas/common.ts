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
