import type { TSchema } from '@sinclair/typebox';

/**
 * A TypeBox schema as a plain JSON schema for a route (OpenAPI and validation): without `$id`
 * (fastify would try to register it) and without TypeBox's symbol keys. References to other
 * schemas must have been inlined already.
 */
export function routeSchema<T extends TSchema>(schema: T): T {
  return JSON.parse(
    JSON.stringify(schema, (key, value: unknown) => (key === '$id' ? undefined : value)),
  ) as T;
}
