import { NEUMF_TABLES } from '../registry.ts';
/**
 * How the NeuMF dense tower is laid out in the model store, shared by the trainer (which publishes
 * it) and serving (which reads it).
 */
/** Store table of the dense tower: its weights flattened in Tower.variables order, in chunks d0, d1, ... */
export const DENSE_TABLE = NEUMF_TABLES.dense;
/** Counter hash whose `version` field counts dense publications. */
export const DENSE_COUNTER = NEUMF_TABLES.dense;
/** Values per stored row of the dense tower. */
export const DENSE_CHUNK = 4_096;

/** Row ids of a flattened tower of `length` values: d0, d1, ... */
export function chunkIds(length: number): string[] {
  return Array.from({ length: Math.ceil(length / DENSE_CHUNK) }, (_, c) => `d${c}`);
}
