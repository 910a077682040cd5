import { beforeAll, describe, expect, it } from 'vitest';
import { NeuMF } from '../../../shared/model/neumf/neumf.ts';
import {
  scoreCandidates,
  towerSize,
  unflattenTower,
  type TowerShape,
} from '../../../shared/model/neumf/js-forward.ts';
import { Random } from '../../../shared/model/random.ts';
import { useBackend } from '../../../shared/model/tf-backend.ts';

describe('NeuMF tower in plain JavaScript (serving)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('computes the logits TF.js computes, for a trained model with context', () => {
    const m = new NeuMF({
      gmfDim: 3,
      mlpDim: 2,
      hidden: [4, 3],
      contextDim: 2,
      negatives: 2,
      batchSize: 8,
      initStd: 0.3,
      seed: 5,
    });
    const r = new Random(4);
    for (let u = 0; u < 10; u++) m.ensureUser(`u${u}`);
    for (let i = 0; i < 12; i++) m.ensureItem(`i${i}`);
    for (let k = 0; k < 64; k++) {
      m.learn({
        user: r.int(10),
        item: r.int(12),
        weight: 1,
        time: 1_700_000_000_000 + k * 3_600_000,
        context: { device: k % 2 === 0 ? 'tv' : 'mobile' },
      });
    }
    const ctx = m.contextRows({ device: 'tv', hour: 20 }, 0);
    const items = Int32Array.of(0, 3, 4, 11);
    const expected = m.scoreItems(1, items, ctx);

    const shape: TowerShape = { gmfDim: 3, mlpDim: 2, contextWidth: ctx.length * 2, hidden: [4, 3] };
    const flat = Float32Array.from(m.tower.variables.flatMap((v) => Array.from(v.dataSync())));
    expect(flat.length).toBe(towerSize(shape));
    const context = Float32Array.from(Array.from(ctx).flatMap((c) => Array.from(m.contexts.row(c))));
    const out = scoreCandidates(
      shape,
      unflattenTower(shape, flat),
      m.gmfUsers.row(1),
      m.mlpUsers.row(1),
      context,
      items.length,
      (k) => m.gmfItems.row(items[k] as number),
      (k) => m.mlpItems.row(items[k] as number),
      new Float32Array(items.length),
    );
    for (let k = 0; k < items.length; k++) expect(out[k]).toBeCloseTo(expected[k] as number, 5);
    m.dispose();
  });

  it('refuses weights of another shape', () => {
    const shape: TowerShape = { gmfDim: 2, mlpDim: 2, contextWidth: 0, hidden: [2] };
    // (4 * 2 + 2) + (2 + 2) + 1 = 15
    expect(towerSize(shape)).toBe(15);
    expect(() => unflattenTower(shape, new Float32Array(14))).toThrow(RangeError);
  });

  it('matches a hand-worked tiny tower', () => {
    // gmfDim 1, mlpDim 1, no context, hidden [1]: W1 = [[1], [2]], b1 = [-1]; Wout = [3, 4], bout = 0.5
    // user gmf 2, user mlp 1; item gmf 0.5, item mlp 1:
    // h = relu(1*1 + 1*2 - 1) = 2; logit = 3 * (2 * 0.5) + 4 * 2 + 0.5 = 11.5
    const shape: TowerShape = { gmfDim: 1, mlpDim: 1, contextWidth: 0, hidden: [1] };
    const weights = unflattenTower(shape, Float32Array.of(1, 2, -1, 3, 4, 0.5));
    const out = scoreCandidates(
      shape,
      weights,
      Float32Array.of(2),
      Float32Array.of(1),
      new Float32Array(0),
      1,
      () => Float32Array.of(0.5),
      () => Float32Array.of(1),
      new Float32Array(1),
    );
    expect(out[0]).toBeCloseTo(11.5, 6);
  });
});
