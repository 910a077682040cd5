import { Type, type Static } from '@sinclair/typebox';
import { Id, LabelList, ScalarMap } from './common.ts';

/** A user with optional features (attributes and tags) for the hybrid model's cold start. */
export const UserRecordSchema = Type.Object(
  {
    userId: Id('The user id used in events.'),
    tags: Type.Optional(LabelList('Free tags, e.g. declared interests.')),
    attributes: Type.Optional(ScalarMap('Numeric and categorical attributes (age, country, ...).')),
  },
  { additionalProperties: false, $id: 'UserRecord' },
);

export type UserRecord = Static<typeof UserRecordSchema>;
