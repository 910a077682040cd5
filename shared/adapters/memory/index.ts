export { MemoryEventLog, type MemoryEventLogOptions } from './event-log.ts';
export { MemoryModelStore, type MemoryModelStoreOptions } from './model-store.ts';
export { createMemoryModelState, type MemoryModelState } from './model-state.ts';
export { saveModelState, loadModelState } from './model-state-file.ts';
export { partitionForKey, murmur2 } from './partitioner.ts';
export { recordDataDirApi } from './data-lock.ts';
