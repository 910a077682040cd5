export * from './event-log.ts';
export * from './model-store.ts';
