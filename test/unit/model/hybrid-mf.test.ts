import { describe, expect, it } from 'vitest';
import {
  HybridMF,
  type HybridMfConfig,
  type HybridMfState,
  type Interaction,
} from '../../../shared/model/hybrid-mf.ts';
import { Random } from '../../../shared/model/random.ts';
import { sigmoid, softplus } from '../../../shared/model/math.ts';

const plainSgd = {
  kind: 'sgd',
  learningRate: 0.1,
  l2: 0,
  clipNorm: 0,
  maxNorm: 0,
  epsilon: 0,
  initialAccumulator: 0,
} as const;

function handModel(over: Partial<HybridMfConfig> = {}): HybridMF {
  return new HybridMF({
    dim: 2,
    negatives: 1,
    optimizer: plainSgd,
    biasOptimizer: plainSgd,
    l2Bias: 0,
    ...over,
  });
}

const click = (user: number, item: number, time = 1): Interaction => ({
  user,
  item,
  weight: 1,
  kind: 'implicit',
  value: 1,
  time,
});

describe('HybridMF steps against hand-computed values', () => {
  it('BPR: one positive against its one possible negative', () => {
    const m = handModel();
    m.users.load('u', Float32Array.of(0.1, 0.2), 0, 0);
    m.items.load('i', Float32Array.of(0.3, -0.1), 0, 0);
    m.items.load('j', Float32Array.of(0.2, 0.4), 0, 0);
    // diff = u.(vi - vj) + (bi - bj) = 0.1*0.1 + 0.2*(-0.5) = -0.09
    // c = sigmoid(0.09) = 0.52248482; loss = softplus(0.09) = 0.73915934
    const c = 0.52248482;
    const loss = m.learn(click(0, 0));
    expect(loss).toBeCloseTo(0.73915934, 6);
    expect(sigmoid(0.09)).toBeCloseTo(c, 7);
    expect(softplus(0.09)).toBeCloseTo(0.73915934, 7);
    // u' = u - lr * (-c (vi - vj)) = [0.1 + 0.1c*0.1, 0.2 - 0.1c*0.5]
    expect(m.users.row(0)[0]).toBeCloseTo(0.1 + 0.01 * c, 6);
    expect(m.users.row(0)[1]).toBeCloseTo(0.2 - 0.05 * c, 6);
    // vi' = vi + lr c u ; vj' = vj - lr c u ; bi' = lr c ; bj' = -lr c
    expect(m.items.row(0)[0]).toBeCloseTo(0.3 + 0.01 * c, 6);
    expect(m.items.row(0)[1]).toBeCloseTo(-0.1 + 0.02 * c, 6);
    expect(m.items.row(1)[0]).toBeCloseTo(0.2 - 0.01 * c, 6);
    expect(m.items.row(1)[1]).toBeCloseTo(0.4 - 0.02 * c, 6);
    expect(m.items.biases[0]).toBeCloseTo(0.1 * c, 6);
    expect(m.items.biases[1]).toBeCloseTo(-0.1 * c, 6);
    expect(m.users.counts[0]).toBe(1);
    expect(m.items.counts[0]).toBe(1);
    expect(m.history.has(0, 0)).toBe(true);
  });

  it('BPR with context: the query is user + context rows, and each context row gets the user gradient', () => {
    const m = handModel();
    m.users.load('u', Float32Array.of(0.1, 0.2), 0, 0);
    m.items.load('i', Float32Array.of(0.3, -0.1), 0, 0);
    m.items.load('j', Float32Array.of(0.2, 0.4), 0, 0);
    const device = m.contexts.load('device=mobile', Float32Array.of(0.2, 0), 0, 0);
    const cross = m.userContexts.load('u@device=mobile', Float32Array.of(0, -0.1), 0, 0);
    const context = { shared: Int32Array.of(device), crosses: Int32Array.of(cross) };
    // q = u + c + x = [0.3, 0.1]; diff = q.(vi - vj) = 0.3*0.1 + 0.1*(-0.5) = -0.02
    // c = sigmoid(0.02) = 0.50499983; loss = softplus(0.02) = ln(2.02020134) = 0.70319718
    const c = 0.50499983;
    expect(sigmoid(0.02)).toBeCloseTo(c, 7);
    const loss = m.learn({ ...click(0, 0), context });
    expect(loss).toBeCloseTo(0.70319718, 6);
    // Each of u, c, x moves by lr * c * (vi - vj) = 0.1c * [0.1, -0.5].
    expect(m.users.row(0)[0]).toBeCloseTo(0.1 + 0.01 * c, 6);
    expect(m.users.row(0)[1]).toBeCloseTo(0.2 - 0.05 * c, 6);
    expect(m.contexts.row(device)[0]).toBeCloseTo(0.2 + 0.01 * c, 6);
    expect(m.contexts.row(device)[1]).toBeCloseTo(-0.05 * c, 6);
    expect(m.userContexts.row(cross)[0]).toBeCloseTo(0.01 * c, 6);
    expect(m.userContexts.row(cross)[1]).toBeCloseTo(-0.1 - 0.05 * c, 6);
    // Items move along the query, not the bare user row: vi' = vi + lr c q.
    expect(m.items.row(0)[0]).toBeCloseTo(0.3 + 0.03 * c, 6);
    expect(m.items.row(0)[1]).toBeCloseTo(-0.1 + 0.01 * c, 6);
    expect(m.items.row(1)[0]).toBeCloseTo(0.2 - 0.03 * c, 6);
    expect(m.contexts.counts[device]).toBe(1);
    expect(m.userContexts.counts[cross]).toBe(1);
    // Scores in a context use the query (u' + c' + x'); without one, the user row alone.
    const q = [0.3 + 0.03 * c, 0.1 - 0.15 * c];
    const vi = [0.3 + 0.03 * c, -0.1 + 0.01 * c];
    expect(m.score(0, 0, false, context)).toBeCloseTo(
      q[0]! * vi[0]! + q[1]! * vi[1]! + (m.items.biases[0] as number),
      6,
    );
    const u = m.users.row(0);
    expect(m.score(0, 0)).toBeCloseTo(
      (u[0] as number) * vi[0]! + (u[1] as number) * vi[1]! + (m.items.biases[0] as number),
      6,
    );
    expect(m.scoreAll(0, new Float32Array(2), false, context)[0]).toBeCloseTo(
      m.score(0, 0, false, context),
      6,
    );
  });

  it('context rows start at zero: an unknown context value scores as no context', () => {
    const m = handModel({ initStd: 0.1 });
    const user = m.users.ensure('u');
    m.items.ensure('i');
    const fresh = { shared: Int32Array.of(m.contexts.ensure('device=tv')), crosses: Int32Array.of() };
    expect(Array.from(m.contexts.row(fresh.shared[0] as number))).toEqual([0, 0]);
    expect(m.score(user, 0, false, fresh)).toBe(m.score(user, 0));
  });

  it('logistic: a positive and a negative, each with its own coefficient', () => {
    const m = handModel({ loss: 'logistic', implicitItemBias: false });
    m.users.load('u', Float32Array.of(1, 0), 0, 0);
    m.items.load('i', Float32Array.of(0.5, 0.5), 0, 0);
    m.items.load('j', Float32Array.of(-1, 2), 0, 0);
    // s_i = 0.5: c_i = sigmoid(0.5) - 1 = -0.37754067; s_j = -1: c_j = sigmoid(-1) = 0.26894142
    // loss = (softplus(-0.5) + softplus(-1)) / 2 = (0.47407698 + 0.31326169) / 2
    const ci = -0.37754067;
    const cj = 0.26894142;
    expect(m.learn(click(0, 0))).toBeCloseTo((0.47407698 + 0.31326169) / 2, 6);
    // u' = u - lr (c_i v_i + c_j v_j)
    expect(m.users.row(0)[0]).toBeCloseTo(1 - 0.1 * (ci * 0.5 + cj * -1), 6);
    expect(m.users.row(0)[1]).toBeCloseTo(0 - 0.1 * (ci * 0.5 + cj * 2), 6);
    // v_i' = v_i - lr c_i u ; v_j' = v_j - lr c_j u
    expect(m.items.row(0)[0]).toBeCloseTo(0.5 - 0.1 * ci, 6);
    expect(m.items.row(1)[0]).toBeCloseTo(-1 - 0.1 * cj, 6);
    expect(m.items.row(1)[1]).toBeCloseTo(2, 6);
  });

  it('a dislike is a weighted step towards 0, and leaves no history', () => {
    const m = handModel({ implicitItemBias: false });
    m.users.load('u', Float32Array.of(1, 1), 0, 0);
    m.items.load('i', Float32Array.of(1, 0), 0, 0);
    // s = 1; weight 2: c = 2 sigmoid(1) = 1.46211716; loss = 2 softplus(1) = 2.62652338
    expect(m.learn({ ...click(0, 0), weight: -2 })).toBeCloseTo(2.62652338, 6);
    expect(m.users.row(0)[0]).toBeCloseTo(1 - 0.1 * 1.46211716, 6);
    expect(m.users.row(0)[1]).toBeCloseTo(1, 6);
    expect(m.items.row(0)[1]).toBeCloseTo(-0.146211716, 6);
    expect(m.history.has(0, 0)).toBe(false);
    expect(m.items.counts[0]).toBe(0);
  });

  it('ratings: squared loss with global, user and item biases', () => {
    const m = handModel({ dim: 1 });
    m.users.load('u', Float32Array.of(0.5), 0.1, 0);
    m.items.load('i', Float32Array.of(0.4), -0.2, 0);
    m.ratingSum = 3;
    m.ratingCount = 1;
    // mean after this rating = (3 + 4) / 2 = 3.5; prediction = 3.5 + 0.1 - 0.2 + 0.2 = 3.6
    // error = -0.4; loss = 0.08; u' = 0.5 + 0.1*0.4*0.4 = 0.516; v' = 0.4 + 0.1*0.4*0.5 = 0.42
    expect(m.learn({ user: 0, item: 0, weight: 1, kind: 'explicit', value: 4, time: 1 })).toBeCloseTo(
      0.08,
      6,
    );
    expect(m.globalMean).toBe(3.5);
    expect(m.users.row(0)[0]).toBeCloseTo(0.516, 6);
    expect(m.items.row(0)[0]).toBeCloseTo(0.42, 6);
    expect(m.users.biases[0]).toBeCloseTo(0.14, 6);
    expect(m.items.biases[0]).toBeCloseTo(-0.16, 6);
    expect(m.predictRating(0, 0)).toBeCloseTo(3.5 + 0.14 - 0.16 + 0.516 * 0.42, 5);
  });

  it('learns against negatives given by the caller instead of its own sampler', () => {
    const m = handModel();
    m.users.load('u', Float32Array.of(0.1, 0.2), 0, 0);
    for (const id of ['i', 'j', 'k']) m.items.load(id, Float32Array.of(0.5, 0.5), 0, 0);
    const random = m.random.state;
    m.learn(click(0, 0), Int32Array.of(2));
    expect(m.random.state).toBe(random); // nothing was drawn
    expect(Array.from(m.items.row(1))).toEqual([0.5, 0.5]);
    expect(m.items.row(2)[0]).toBeLessThan(0.5);
  });

  it('rejects a step with a non-finite value: nothing changes, the rejection is counted', () => {
    const m = handModel();
    m.users.ensure('u');
    m.items.ensure('i');
    m.items.ensure('j');
    const before = m.toState();
    expect(Number.isNaN(m.learn({ ...click(0, 0), weight: Number.NaN }))).toBe(true);
    expect(
      Number.isNaN(
        m.learn({ user: 0, item: 0, weight: 1, kind: 'explicit', value: Number.POSITIVE_INFINITY, time: 1 }),
      ),
    ).toBe(true);
    expect(m.rejectedSteps).toBe(2);
    const after = m.toState();
    expect(after.tables).toEqual(before.tables);
    expect(m.globalMean).toBe(0);
    expect(m.history.has(0, 0)).toBe(false);
  });
});

describe('HybridMF features, determinism and state', () => {
  it('builds composite vectors as id row plus the mean of feature rows, and scores them', () => {
    const m = handModel({ initStd: 0 });
    const item = m.setItemFeatures('i', [
      { key: 'tag:a', weight: 1 },
      { key: 'num:year', weight: 2 },
    ]);
    m.items.load('i', Float32Array.of(1, 0), 0.5, 0);
    m.itemFeatures.load('tag:a', Float32Array.of(2, 2), 0, 0);
    m.itemFeatures.load('num:year', Float32Array.of(1, -1), 0, 0);
    // v = [1, 0] + (1 * [2, 2] + 2 * [1, -1]) / 2 = [3, 0]
    expect(Array.from(m.itemVector(item, new Float32Array(2)))).toEqual([3, 0]);
    const user = m.users.load('u', Float32Array.of(1, 1), 0, 0);
    expect(m.score(user, item)).toBeCloseTo(3.5, 6);
    const all = m.scoreAll(user, new Float32Array(1));
    expect(all[0]).toBeCloseTo(3.5, 6);
    expect(m.itemFeatureList(item)).toEqual({ keys: ['tag:a', 'num:year'], weights: [1, 2] });
  });

  it('is deterministic for a seed and event order', () => {
    const run = () => {
      const m = new HybridMF({ dim: 8, seed: 7, negatives: 3 });
      const r = new Random(3);
      for (let k = 0; k < 2_000; k++) {
        const u = m.users.ensure(`u${r.int(50)}`);
        const i = m.items.ensure(`i${r.int(80)}`);
        m.learn(click(u, i, k));
      }
      return m.toState();
    };
    const a = run();
    const b = run();
    expect(
      Buffer.from(a.tables.items.vectors.buffer).equals(Buffer.from(b.tables.items.vectors.buffer)),
    ).toBe(true);
    expect(a.tables.users.vectors).toEqual(b.tables.users.vectors);
    const c = new HybridMF({ dim: 8, seed: 8 });
    c.users.ensure('u0');
    expect(Array.from(c.users.row(0))).not.toEqual(Array.from(a.tables.users.vectors.subarray(0, 8)));
  });

  it('gives a new item with the tags of liked items a higher score than one with other tags', () => {
    const m = new HybridMF({ dim: 16, seed: 1, negatives: 4 });
    const r = new Random(5);
    for (let i = 0; i < 40; i++)
      m.setItemFeatures(`i${i}`, [{ key: i % 2 === 0 ? 'tag:jazz' : 'tag:metal', weight: 1 }]);
    // Users 0-19 like jazz (even items), users 20-39 like metal (odd items).
    for (let k = 0; k < 20_000; k++) {
      const u = r.int(40);
      const item = 2 * r.int(20) + (u < 20 ? 0 : 1);
      m.learn(click(m.users.ensure(`u${u}`), item, k));
    }
    const jazz = m.setItemFeatures('new-jazz', [{ key: 'tag:jazz', weight: 1 }]);
    const metal = m.setItemFeatures('new-metal', [{ key: 'tag:metal', weight: 1 }]);
    let agree = 0;
    for (let u = 0; u < 40; u++) {
      const user = m.users.indexOf(`u${u}`);
      const prefersJazz = m.score(user, jazz) > m.score(user, metal);
      if (prefersJazz === u < 20) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(38);
  });

  it('resumes from a checkpoint exactly where it stopped', () => {
    const config = { dim: 8, seed: 11, negatives: 2, sampler: 'popularity' as const };
    const events = Array.from({ length: 3_000 }, (_, k) => ({
      u: `u${(k * 7) % 60}`,
      i: `i${(k * 13) % 90}`,
      k,
    }));
    const step = (m: HybridMF, e: (typeof events)[number]) =>
      m.learn(click(m.users.ensure(e.u), m.items.ensure(e.i), e.k));
    const straight = new HybridMF(config);
    straight.setItemFeatures('i1', [{ key: 'tag:x', weight: 1 }]);
    events.forEach((e) => step(straight, e));

    const first = new HybridMF(config);
    first.setItemFeatures('i1', [{ key: 'tag:x', weight: 1 }]);
    events.slice(0, 1_234).forEach((e) => step(first, e));
    // A copy shares nothing with the model it came from (what a process would have read back).
    const resumed = HybridMF.fromState(structuredClone(first.toState()) as HybridMfState);
    events.slice(1_234).forEach((e) => step(resumed, e));

    const a = straight.toState();
    const b = resumed.toState();
    expect(b.tables.users.vectors).toEqual(a.tables.users.vectors);
    expect(b.tables.items.vectors).toEqual(a.tables.items.vectors);
    expect(b.tables.itemFeatures.vectors).toEqual(a.tables.itemFeatures.vectors);
    expect(b.tables.items.biases).toEqual(a.tables.items.biases);
    expect(b.random).toBe(a.random);
    expect(resumed.steps).toBe(straight.steps);
  });
});
