import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { RecsysError } from '../../../shared/errors/index.ts';
import type { CatalogRecord } from '../../../shared/ports/index.ts';
import {
  ErrorResponse,
  ItemBody,
  ItemIdParams,
  UserBody,
  UserIdParams,
} from '../../../shared/schemas/api.ts';
import { ItemRecordSchema, UserRecordSchema } from '../../../shared/schemas/index.ts';
import type { ServingEngine } from '../engine.ts';
import { routeSchema } from './schema-doc.ts';

const ItemResponse = Type.Object({ item: routeSchema(ItemRecordSchema), requestId: Type.String() });
const UserResponse = Type.Object({ user: routeSchema(UserRecordSchema), requestId: Type.String() });
const errors = {
  400: routeSchema(ErrorResponse),
  401: routeSchema(ErrorResponse),
  403: routeSchema(ErrorResponse),
  503: routeSchema(ErrorResponse),
};

function sameId(path: string, body: { itemId?: string; userId?: string }, field: 'itemId' | 'userId'): void {
  const given = body[field];
  if (given !== undefined && given !== path) {
    throw new RecsysError('VALIDATION_FAILED', {
      message: `The body's ${field} "${given}" differs from the one in the path "${path}".`,
      issues: [{ path: `/${field}`, reason: 'must equal the id in the path' }],
    });
  }
}

/**
 * The catalog: items with their features, categories and hidden flag, and users with their
 * features. Writes go to the store (which appends them to the catalog change stream every serving
 * instance follows) and apply to this instance's index at once.
 */
export function registerCatalogRoutes(app: FastifyInstance, engine: ServingEngine): void {
  const { guard, store, index } = engine;

  app.put(
    '/v1/items/:itemId',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Create or replace an item (features, categories, hidden flag)',
        tags: ['catalog'],
        params: routeSchema(ItemIdParams),
        body: routeSchema(ItemBody),
        response: { 200: ItemResponse, ...errors },
      },
    },
    async (request) => {
      const { itemId } = request.params as { itemId: string };
      const body = request.body as ItemBody;
      sameId(itemId, body, 'itemId');
      const record = { ...body, itemId } as CatalogRecord;
      await guard.call('putItems', () => store.putItems([{ id: itemId, record }]));
      index.setCatalog(index.ensure(itemId), record);
      return { item: record, requestId: request.id };
    },
  );

  app.get(
    '/v1/items/:itemId',
    {
      config: { access: 'read' },
      schema: {
        summary: 'An item of the catalog',
        tags: ['catalog'],
        params: routeSchema(ItemIdParams),
        response: { 200: ItemResponse, ...errors, 404: routeSchema(ErrorResponse) },
      },
    },
    async (request) => {
      const { itemId } = request.params as { itemId: string };
      const [record] = await guard.call('getItems', () => store.getItems([itemId]));
      if (record === undefined)
        throw new RecsysError('NOT_FOUND', { message: `The catalog has no item "${itemId}".` });
      return { item: record, requestId: request.id };
    },
  );

  app.delete(
    '/v1/items/:itemId',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Delete an item from the catalog (it is never recommended again)',
        tags: ['catalog'],
        params: routeSchema(ItemIdParams),
        response: { 204: Type.Null(), ...errors, 404: routeSchema(ErrorResponse) },
      },
    },
    async (request, reply) => {
      const { itemId } = request.params as { itemId: string };
      const deleted = await guard.call('deleteItem', () => store.deleteItem(itemId));
      if (!deleted) throw new RecsysError('NOT_FOUND', { message: `The catalog has no item "${itemId}".` });
      const position = index.indexOf(itemId);
      if (position >= 0) index.setCatalog(position, undefined);
      return reply.code(204).send();
    },
  );

  app.put(
    '/v1/users/:userId',
    {
      config: { access: 'write' },
      schema: {
        summary: 'Create or replace a user (features for cold start)',
        tags: ['catalog'],
        params: routeSchema(UserIdParams),
        body: routeSchema(UserBody),
        response: { 200: UserResponse, ...errors },
      },
    },
    async (request) => {
      const { userId } = request.params as { userId: string };
      const body = request.body as UserBody;
      sameId(userId, body, 'userId');
      const record = { ...body, userId } as CatalogRecord;
      await guard.call('putUsers', () => store.putUsers([{ id: userId, record }]));
      return { user: record, requestId: request.id };
    },
  );

  app.get(
    '/v1/users/:userId',
    {
      config: { access: 'read' },
      schema: {
        summary: 'A user record',
        tags: ['catalog'],
        params: routeSchema(UserIdParams),
        response: { 200: UserResponse, ...errors, 404: routeSchema(ErrorResponse) },
      },
    },
    async (request) => {
      const { userId } = request.params as { userId: string };
      const [record] = await guard.call('getUsers', () => store.getUsers([userId]));
      if (record === undefined)
        throw new RecsysError('NOT_FOUND', { message: `No user record "${userId}".` });
      return { user: record, requestId: request.id };
    },
  );
}
