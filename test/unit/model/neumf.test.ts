import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { NeuMF, type NeuMfConfig, type NeuMfState } from '../../../shared/model/neumf/neumf.ts';
import { forward } from '../../../shared/model/neumf/tower.ts';
import { Random } from '../../../shared/model/random.ts';
import { useBackend, type BackendName } from '../../../shared/model/tf-backend.ts';

const sgd = {
  kind: 'sgd',
  learningRate: 0.01,
  l2: 0,
  clipNorm: 0,
  maxNorm: 0,
  epsilon: 0,
  initialAccumulator: 0,
} as const;
const tiny: Partial<NeuMfConfig> = {
  gmfDim: 3,
  mlpDim: 2,
  hidden: [4, 2],
  contextDim: 2,
  negatives: 2,
  batchSize: 8,
  initStd: 0.3,
  seed: 3,
};

/** Trains a model on a fixed, seeded stream with context; returns it. */
function trainOn(config: Partial<NeuMfConfig>, events: number): NeuMF {
  const m = new NeuMF(config);
  const r = new Random(9);
  for (let u = 0; u < 20; u++) m.ensureUser(`u${u}`);
  for (let i = 0; i < 30; i++) m.ensureItem(`i${i}`);
  for (let k = 0; k < events; k++) {
    m.learn({
      user: r.int(20),
      item: r.int(30),
      weight: 1,
      time: 1_700_000_000_000 + k * 60_000,
      context: { device: r.next() < 0.5 ? 'mobile' : 'desktop' },
    });
  }
  return m;
}

/**
 * The native backend joins when RECSYS_TEST_NATIVE=1 (set after `npm run tf:native`, as CI does):
 * then it must load and agree, never skip.
 */
const NATIVE = process.env['RECSYS_TEST_NATIVE'] === '1';
const BACKENDS: BackendName[] = NATIVE ? ['wasm', 'cpu', 'tensorflow'] : ['wasm', 'cpu'];

for (const backend of BACKENDS) {
  describe(`NeuMF on the ${backend} backend`, () => {
    beforeAll(async () => {
      expect(await useBackend(backend)).toBe(backend);
    });

    it('computes the same logits as the Layers model it exports', () => {
      const m = trainOn(tiny, 40);
      const items = Int32Array.of(0, 5, 7);
      const ctx = m.contextRows({ device: 'mobile' }, 1_700_000_000_000);
      const ours = m.scoreItems(2, items, ctx);
      const ug = Array.from(items, () => Array.from(m.gmfUsers.row(2)));
      const ig = Array.from(items, (i) => Array.from(m.gmfItems.row(i)));
      const gmf = ug.map((u, k) => u.map((x, d) => x * (ig[k]![d] as number)));
      const mlp = Array.from(items, (i) => [
        ...m.mlpUsers.row(2),
        ...m.mlpItems.row(i),
        ...Array.from(ctx).flatMap((c) => Array.from(m.contexts.row(c))),
      ]);
      const predicted = m.tower.model.predict([tf.tensor2d(gmf), tf.tensor2d(mlp)]) as tf.Tensor;
      const expected = predicted.dataSync();
      for (let k = 0; k < items.length; k++) expect(ours[k]).toBeCloseTo(expected[k] as number, 5);
      m.dispose();
    });

    it('gives rows the gradient of the loss: analytic for GMF, finite differences for MLP rows', () => {
      const m = new NeuMF({ ...tiny, rowOptimizer: sgd, denseLearningRate: 1e-9, initStd: 0.5 });
      const user = m.ensureUser('u');
      const item = m.ensureItem('i');
      const ctx = m.contextRows({ device: 'tv' }, 0);
      const logit = m.scoreItems(user, Int32Array.of(item), ctx)[0] as number;
      const ug = Array.from(m.gmfUsers.row(user));
      const ig = Array.from(m.gmfItems.row(item));
      const um = Array.from(m.mlpUsers.row(user));
      const out = m.tower.variables[m.tower.variables.length - 2]!.dataSync(); // output kernel [gmf + last hidden, 1]
      // One positive example, weight 1: loss = softplus(-logit); dloss/dlogit = sigmoid(logit) - 1.
      const dlogit = 1 / (1 + Math.exp(-logit)) - 1;
      // Finite differences of the loss with respect to the user's MLP row, before the step.
      const lossAt = (row: number[]) => {
        m.mlpUsers.row(user).set(row);
        const l = m.scoreItems(user, Int32Array.of(item), ctx)[0] as number;
        return Math.log1p(Math.exp(-l));
      };
      const eps = 1e-2;
      const numeric = um.map((_, d) => {
        const plus = [...um];
        const minus = [...um];
        plus[d]! += eps;
        minus[d]! -= eps;
        return (lossAt(plus) - lossAt(minus)) / (2 * eps);
      });
      m.mlpUsers.row(user).set(um);

      m.trainBatch(Int32Array.of(user), Int32Array.of(item), ctx, Float32Array.of(1), Float32Array.of(1));
      // SGD: row' = row - lr * gradient  =>  gradient = (row - row') / lr
      const lr = sgd.learningRate;
      const gUg = Array.from(m.gmfUsers.row(user), (v, d) => ((ug[d] as number) - v) / lr);
      const gUm = Array.from(m.mlpUsers.row(user), (v, d) => ((um[d] as number) - v) / lr);
      // d logit / d ug = ig * w_out[0..gmfDim)
      ug.forEach((_, d) => expect(gUg[d]).toBeCloseTo(dlogit * (ig[d] as number) * (out[d] as number), 4));
      numeric.forEach((g, d) => expect(gUm[d]).toBeCloseTo(g, 3));
      m.dispose();
    });

    it('learns context-dependent tastes from the stream', () => {
      // Every user clicks items 0-9 on mobile and items 10-19 on desktop, and is shown (an
      // impression: a negative weight) but does not click the other half in that context.
      const m = new NeuMF({
        seed: 5,
        gmfDim: 8,
        mlpDim: 8,
        hidden: [16, 8],
        contextDim: 4,
        negatives: 4,
        batchSize: 64,
      });
      const r = new Random(2);
      for (let u = 0; u < 30; u++) m.ensureUser(`u${u}`);
      for (let i = 0; i < 40; i++) m.ensureItem(`i${i}`);
      for (let k = 0; k < 6_000; k++) {
        const mobile = r.next() < 0.5;
        const user = r.int(30);
        const context = { device: mobile ? 'mobile' : 'desktop' };
        m.learn({ user, item: r.int(10) + (mobile ? 0 : 10), weight: 1, time: k, context });
        m.learn({ user, item: r.int(10) + (mobile ? 10 : 0), weight: -1, time: k, context });
      }
      m.flush();
      const items = Int32Array.from({ length: 20 }, (_, i) => i);
      let correct = 0;
      for (let u = 0; u < 30; u++) {
        const onMobile = m.scoreItems(u, items, m.contextRows({ device: 'mobile' }, 0));
        const onDesktop = m.scoreItems(u, items, m.contextRows({ device: 'desktop' }, 0));
        const mean = (s: Float32Array, from: number) =>
          s.slice(from, from + 10).reduce((a, b) => a + b, 0) / 10;
        if (mean(onMobile, 0) > mean(onMobile, 10) && mean(onDesktop, 10) > mean(onDesktop, 0)) correct++;
      }
      expect(correct).toBeGreaterThanOrEqual(27);
      expect(m.rejectedSteps).toBe(0);
      m.dispose();
    });

    it('exports the tower in TF.js format and imports it into another model', async () => {
      const a = trainOn(tiny, 60);
      const b = new NeuMF(tiny);
      const artifacts = await a.exportTower();
      expect(artifacts.modelTopology).toBeDefined();
      expect(artifacts.weightSpecs?.map((w) => w.name).some((n) => n.startsWith('mlp_0'))).toBe(true);
      await b.importTower(artifacts);
      a.tower.variables.forEach((v, i) =>
        expect(Array.from(b.tower.variables[i]!.dataSync())).toEqual(Array.from(v.dataSync())),
      );
      a.dispose();
      b.dispose();
    });

    it('resumes from a checkpoint exactly where it stopped (pending batch and Adam state included)', async () => {
      const events = Array.from({ length: 300 }, (_, k) => ({
        user: (k * 7) % 20,
        item: (k * 11) % 30,
        time: k * 1000,
      }));
      const setup = () => {
        const m = new NeuMF(tiny);
        for (let u = 0; u < 20; u++) m.ensureUser(`u${u}`);
        for (let i = 0; i < 30; i++) m.ensureItem(`i${i}`);
        return m;
      };
      const straight = setup();
      events.forEach((e) => straight.learn({ ...e, weight: 1 }));
      const first = setup();
      events.slice(0, 131).forEach((e) => first.learn({ ...e, weight: 1 }));
      const resumed = await NeuMF.fromState(structuredClone(await first.toState()) as NeuMfState);
      events.slice(131).forEach((e) => resumed.learn({ ...e, weight: 1 }));
      const a = await straight.toState();
      const b = await resumed.toState();
      expect(b.counters.steps).toBe(a.counters.steps);
      expect(b.tables.gmfItems.vectors).toEqual(a.tables.gmfItems.vectors);
      expect(b.tables.mlpUsers.vectors).toEqual(a.tables.mlpUsers.vectors);
      b.dense.forEach((d, i) => expect(d.values).toEqual(a.dense[i]!.values));
      [straight, first, resumed].forEach((m) => m.dispose());
    });
  });
}

describe('NeuMF backends agree', () => {
  it(`trains to the same rows and weights on ${BACKENDS.join(', ')}, within float tolerance`, async () => {
    const results: Record<string, { loss: number; rows: Float32Array; dense: Float32Array }> = {};
    for (const backend of BACKENDS) {
      await useBackend(backend);
      const m = trainOn({ ...tiny, batchSize: 16 }, 400);
      results[backend] = {
        loss: m.lastLoss,
        rows: m.mlpItems.snapshot().vectors,
        dense: m.tower.variables[0]!.dataSync() as Float32Array,
      };
      m.dispose();
    }
    const cpu = results['cpu'] as (typeof results)[string];
    for (const backend of BACKENDS.filter((b) => b !== 'cpu')) {
      const other = results[backend] as (typeof results)[string];
      expect(other.loss, backend).toBeCloseTo(cpu.loss, 4);
      other.rows.forEach((v, i) => expect(Math.abs(v - (cpu.rows[i] as number))).toBeLessThan(1e-4));
      other.dense.forEach((v, i) => expect(Math.abs(v - (cpu.dense[i] as number))).toBeLessThan(1e-4));
    }
  });
});

describe('forward()', () => {
  it('is relu layers then one linear unit over [gmf, mlp] (a 1-unit example by hand)', async () => {
    await useBackend('cpu');
    // mlp input [1, -2] -> W1 [[1], [1]], b1 [0.5] -> relu(-0.5) = 0; out = [gmf 2, h 0] . [3, 7] + 1 = 7
    const logits = forward(tf.tensor2d([[2]]), tf.tensor2d([[1, -2]]), [
      tf.tensor2d([[1], [1]]),
      tf.tensor1d([0.5]),
      tf.tensor2d([[3], [7]]),
      tf.tensor1d([1]),
    ]);
    expect(Array.from(logits.dataSync())).toEqual([7]);
  });
});
