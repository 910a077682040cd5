export * from './recsys-client.ts';
