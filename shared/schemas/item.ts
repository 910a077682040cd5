import { Type, type Static } from '@sinclair/typebox';
import { Id, LabelList, ScalarMap } from './common.ts';
import { LIMITS } from './limits.ts';

/**
 * An item of the catalog with its content features. Categories, tags and attributes become feature
 * embeddings of the hybrid model, so a new item ranks sensibly before its first interaction.
 */
export const ItemRecordSchema = Type.Object(
  {
    itemId: Id('The item id used in events.'),
    title: Type.Optional(Type.String({ maxLength: LIMITS.textMaxLength })),
    categories: Type.Optional(LabelList('Categories; the category filter and diversity rules use them.')),
    tags: Type.Optional(LabelList('Free tags, e.g. genres.')),
    attributes: Type.Optional(ScalarMap('Numeric and categorical attributes.')),
    hidden: Type.Optional(Type.Boolean({ description: 'Hidden items are never recommended.' })),
  },
  { additionalProperties: false, $id: 'ItemRecord' },
);

export type ItemRecord = Static<typeof ItemRecordSchema>;
