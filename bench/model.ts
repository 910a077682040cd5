import { HybridMF } from '../shared/model/hybrid-mf.ts';
import { NeuMF } from '../shared/model/neumf/neumf.ts';
import { Random } from '../shared/model/random.ts';
import { useBackend, type BackendName } from '../shared/model/tf-backend.ts';
import type { BenchResult } from './report.ts';
import { uniformSampler, zipfSampler } from './workload.ts';

export interface ModelBenchOptions {
  readonly backends: readonly BackendName[];
  /** Scale down for a quick run (1 = the full benchmark). */
  readonly scale: number;
  readonly onProgress?: (line: string) => void;
}

/** Targets of issue #3 (docs/benchmarks.md). */
export const MODEL_TARGETS = {
  mfUpdatesPerSecond: 1_000_000,
  neumfWasmExamplesPerSecond: 35_000,
  neumfScoreMedianMs: 2,
  nativeSpeedupOverWasm: 5,
} as const;

/**
 * MF single-event updates per second at dimension 64 (BPR, one sampled negative, row-wise
 * Adagrad), over 100,000 users and 20,000 items; two streams: Zipf-distributed ids (the shape of
 * real interaction logs) and uniform ids (every update misses the CPU caches: a worst case).
 */
export function benchMf(scale: number, shape: 'zipf' | 'uniform'): BenchResult {
  const users = 100_000;
  const items = 20_000;
  const updates = Math.max(100_000, Math.round(3_000_000 * scale));
  const model = new HybridMF({ dim: 64, negatives: 1, seed: 1 });
  for (let u = 0; u < users; u++) model.users.ensure(`u${u}`);
  for (let i = 0; i < items; i++) model.items.ensure(`i${i}`);
  const random = new Random(7);
  const nextUser = shape === 'zipf' ? zipfSampler(users, 1, random) : uniformSampler(users, random);
  const nextItem = shape === 'zipf' ? zipfSampler(items, 1, random) : uniformSampler(items, random);
  const us = Int32Array.from({ length: updates }, nextUser);
  const is = Int32Array.from({ length: updates }, nextItem);
  const x = { user: 0, item: 0, weight: 1, kind: 'implicit' as const, value: 1, time: 0 };
  const warm = Math.min(200_000, updates / 5);
  for (let k = 0; k < warm; k++) {
    x.user = us[k] as number;
    x.item = is[k] as number;
    model.learn(x);
  }
  const started = performance.now();
  for (let k = 0; k < updates; k++) {
    x.user = us[k] as number;
    x.item = is[k] as number;
    x.time = k;
    model.learn(x);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    name: `MF updates/s (dim 64, ${shape} ids)`,
    value: updates / seconds,
    unit: '/s',
    ...(shape === 'zipf' ? { target: { op: '>=', value: MODEL_TARGETS.mfUpdatesPerSecond } } : {}),
    note: shape === 'uniform' ? 'cache-miss worst case, reported without target' : 'one core',
  };
}

/** NeuMF with batch 256, GMF 32, MLP 64-32-16 (32 + 32 embeddings, hidden 32 and 16), context on. */
export function neumfBenchModel(): NeuMF {
  const model = new NeuMF({
    seed: 1,
    gmfDim: 32,
    mlpDim: 32,
    hidden: [32, 16],
    contextDim: 8,
    batchSize: 256,
    negatives: 4,
  });
  for (let u = 0; u < 10_000; u++) model.ensureUser(`u${u}`);
  for (let i = 0; i < 5_000; i++) model.ensureItem(`i${i}`);
  return model;
}

export function benchNeumfTraining(backend: BackendName, scale: number): BenchResult {
  const model = neumfBenchModel();
  const random = new Random(3);
  const nextUser = zipfSampler(10_000, 1, random);
  const nextItem = zipfSampler(5_000, 1, random);
  const devices = ['mobile', 'desktop', 'tv'];
  const feed = (events: number) => {
    for (let k = 0; k < events; k++) {
      model.learn({
        user: nextUser(),
        item: nextItem(),
        weight: 1,
        time: 1_700_000_000_000 + k * 1000,
        context: { device: devices[k % 3] as string },
      });
    }
  };
  feed(2_000);
  const before = model.examples;
  const started = performance.now();
  feed(Math.max(4_000, Math.round(40_000 * scale)));
  const seconds = (performance.now() - started) / 1000;
  const value = (model.examples - before) / seconds;
  model.dispose();
  return {
    name: `NeuMF training examples/s (${backend})`,
    value,
    unit: '/s',
    ...(backend === 'wasm' ? { target: { op: '>=', value: MODEL_TARGETS.neumfWasmExamplesPerSecond } } : {}),
    note: 'batch 256, GMF 32, MLP 64-32-16, context on, 4 negatives',
  };
}

export function benchNeumfScoring(backend: BackendName): BenchResult {
  const model = neumfBenchModel();
  const items = Int32Array.from({ length: 1_000 }, (_, i) => i * 5);
  const ctx = model.contextRows({ device: 'mobile' }, 1_700_000_000_000);
  const out = new Float32Array(items.length);
  for (let k = 0; k < 50; k++) model.scoreItems(k, items, ctx, out);
  const times: number[] = [];
  for (let k = 0; k < 300; k++) {
    const started = performance.now();
    model.scoreItems(k % 10_000, items, ctx, out);
    times.push(performance.now() - started);
  }
  model.dispose();
  times.sort((a, b) => a - b);
  return {
    name: `NeuMF scoring 1,000 candidates, median (${backend})`,
    value: times[Math.floor(times.length / 2)] as number,
    unit: 'ms',
    ...(backend === 'cpu' ? {} : { target: { op: '<=', value: MODEL_TARGETS.neumfScoreMedianMs } }),
    note: `p99 ${(times[Math.floor(times.length * 0.99)] as number).toFixed(3)} ms`,
  };
}

export async function runModelBench(options: ModelBenchOptions): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const say = options.onProgress ?? (() => undefined);
  say('MF, Zipf ids');
  results.push(benchMf(options.scale, 'zipf'));
  say('MF, uniform ids');
  results.push(benchMf(options.scale, 'uniform'));
  const training = new Map<BackendName, number>();
  for (const backend of options.backends) {
    say(`NeuMF on ${backend}`);
    await useBackend(backend);
    const train = benchNeumfTraining(backend, options.scale);
    training.set(backend, train.value);
    results.push(train);
    results.push(benchNeumfScoring(backend));
  }
  const wasm = training.get('wasm');
  const native = training.get('tensorflow');
  if (wasm !== undefined && native !== undefined) {
    results.push({
      name: 'NeuMF training speed-up, native over WASM',
      value: native / wasm,
      unit: 'x',
      target: { op: '>=', value: MODEL_TARGETS.nativeSpeedupOverWasm },
    });
  }
  return results;
}
