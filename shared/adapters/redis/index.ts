export { RedisModelStore, type RedisModelStoreOptions } from './model-store.ts';
export { connectRedis, redactUrl, type RedisConnectionOptions } from './connect.ts';
export { encodeRow, encodeDelta, decodeRow, HEADER_BYTES } from './row-codec.ts';
