import { parentPort, workerData } from 'node:worker_threads';
import { newUsearchIndex, type AnnParams } from './ann-index.ts';

/** Builds an HNSW index off the main thread and saves it to `file` (see AnnIndex.build). */
const { vectors, count, width, params, file } = workerData as {
  vectors: Float32Array;
  count: number;
  width: number;
  params: AnnParams;
  file: string;
};
const index = newUsearchIndex(width, params, count);
const keys = new BigUint64Array(count);
for (let i = 0; i < count; i++) keys[i] = BigInt(i);
const chunk = 50_000;
for (let start = 0; start < count; start += chunk) {
  const end = Math.min(count, start + chunk);
  index.add(keys.subarray(start, end), vectors.subarray(start * width, end * width), params.threads);
}
index.save(file);
parentPort?.postMessage('built');
