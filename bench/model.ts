import { HybridMF, type ContextRows, type Interaction } from '../shared/model/hybrid-mf.ts';
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
  /** MF with two context fields and one user x context cross, against MF without (same run). */
  mfContextShare: 0.7,
} as const;

/**
 * MF single-event updates per second at dimension 64 (BPR, one sampled negative, row-wise
 * Adagrad), over 100,000 users and 20,000 items; two streams: Zipf-distributed ids (the shape of
 * real interaction logs) and uniform ids (every update misses the CPU caches: a worst case).
 */
export function benchMf(scale: number, shape: 'zipf' | 'uniform', context = false): BenchResult {
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
  // With context: device (3 values) and hour bucket (4) rows, and a user x device row per event.
  const contexts = context
    ? Array.from({ length: updates }, (_, k) => {
        const device = (us[k] as number) % 3;
        return {
          shared: Int32Array.of(
            model.contexts.ensure(`device=${device}`),
            model.contexts.ensure(`hour=${k % 4}`),
          ),
          crosses: Int32Array.of(model.userContexts.ensure(`u${us[k] as number}@device=${device}`)),
        };
      })
    : undefined;
  const x: Interaction & { user: number; item: number; time: number; context?: ContextRows } = {
    user: 0,
    item: 0,
    weight: 1,
    kind: 'implicit' as const,
    value: 1,
    time: 0,
  };
  const warm = Math.min(200_000, updates / 5);
  for (let k = 0; k < warm; k++) {
    x.user = us[k] as number;
    x.item = is[k] as number;
    if (contexts !== undefined) x.context = contexts[k];
    model.learn(x);
  }
  const started = performance.now();
  for (let k = 0; k < updates; k++) {
    x.user = us[k] as number;
    x.item = is[k] as number;
    x.time = k;
    if (contexts !== undefined) x.context = contexts[k];
    model.learn(x);
  }
  const seconds = (performance.now() - started) / 1000;
  if (context)
    return {
      name: `MF updates/s with context (dim 64, ${shape} ids)`,
      value: updates / seconds,
      unit: '/s',
      note: 'device and hour rows, one user x device row per event',
    };
  return {
    name: `MF updates/s (dim 64, ${shape} ids)`,
    value: updates / seconds,
    unit: '/s',
    ...(shape === 'zipf' ? { target: { op: '>=', value: MODEL_TARGETS.mfUpdatesPerSecond } } : {}),
    note: shape === 'uniform' ? 'cache-miss worst case, reported without target' : 'one core',
  };
}

/**
 * The towers the model benchmark trains: `default` is the product's (NCF's predictive factor 16:
 * GMF 32, MLP 64-32-16); `factor64` is the largest configuration of the NCF paper (GMF 64,
 * MLP 256-128-64), where the dense tower, not the embedding rows, is most of a training step.
 */
export type BenchTower = 'default' | 'factor64';

const TOWERS: Record<BenchTower, { gmfDim: number; mlpDim: number; hidden: number[]; label: string }> = {
  default: { gmfDim: 32, mlpDim: 32, hidden: [32, 16], label: 'GMF 32, MLP 64-32-16' },
  factor64: { gmfDim: 64, mlpDim: 128, hidden: [256, 128, 64], label: 'GMF 64, MLP 256-128-64' },
};

/** NeuMF with batch 256, the given tower, context on, 4 negatives. */
export function neumfBenchModel(tower: BenchTower = 'default'): NeuMF {
  const { gmfDim, mlpDim, hidden } = TOWERS[tower];
  const model = new NeuMF({ seed: 1, gmfDim, mlpDim, hidden, contextDim: 8, batchSize: 256, negatives: 4 });
  for (let u = 0; u < 10_000; u++) model.ensureUser(`u${u}`);
  for (let i = 0; i < 5_000; i++) model.ensureItem(`i${i}`);
  return model;
}

export function benchNeumfTraining(
  backend: BackendName,
  scale: number,
  tower: BenchTower = 'default',
): BenchResult {
  const model = neumfBenchModel(tower);
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
  // The factor-64 tower is ~30x the work per example: fewer events keep the WASM run short.
  const events = tower === 'default' ? 40_000 : 6_000;
  feed(Math.max(tower === 'default' ? 4_000 : 1_500, Math.round(events * scale)));
  const seconds = (performance.now() - started) / 1000;
  const value = (model.examples - before) / seconds;
  model.dispose();
  const target = backend === 'wasm' && tower === 'default';
  return {
    name: `NeuMF training examples/s${tower === 'default' ? '' : ', factor-64 tower'} (${backend})`,
    value,
    unit: '/s',
    ...(target ? { target: { op: '>=', value: MODEL_TARGETS.neumfWasmExamplesPerSecond } } : {}),
    note: `batch 256, ${TOWERS[tower].label}, context on, 4 negatives`,
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
  const plain = benchMf(options.scale, 'zipf');
  results.push(plain);
  say('MF with context, Zipf ids');
  const withContext = benchMf(options.scale, 'zipf', true);
  results.push(withContext, {
    name: 'MF with context against MF without (same run)',
    value: withContext.value / plain.value,
    unit: 'x',
    target: { op: '>=', value: MODEL_TARGETS.mfContextShare },
    note: 'context rows must keep MF at its speed',
  });
  say('MF, uniform ids');
  results.push(benchMf(options.scale, 'uniform'));
  const training = new Map<string, number>();
  // The larger tower only where it is compared: with the native backend in the run.
  const towers: BenchTower[] = options.backends.includes('tensorflow')
    ? ['default', 'factor64']
    : ['default'];
  for (const backend of options.backends) {
    say(`NeuMF on ${backend}`);
    await useBackend(backend);
    for (const tower of towers) {
      if (tower !== 'default' && backend === 'cpu') continue;
      const train = benchNeumfTraining(backend, options.scale, tower);
      training.set(`${tower}/${backend}`, train.value);
      results.push(train);
    }
    results.push(benchNeumfScoring(backend));
  }
  for (const tower of towers) {
    const wasm = training.get(`${tower}/wasm`);
    const native = training.get(`${tower}/tensorflow`);
    if (wasm === undefined || native === undefined) continue;
    results.push({
      name: `NeuMF training speed-up, native over WASM${tower === 'default' ? '' : ', factor-64 tower'}`,
      value: native / wasm,
      unit: 'x',
      target: { op: '>=', value: MODEL_TARGETS.nativeSpeedupOverWasm },
      note: TOWERS[tower].label,
    });
  }
  return results;
}
