import { describe, expect, it } from 'vitest';
import { blend } from '../../../services/serving/ranking/blend.ts';
import { MIN_TRIALS, ModelQuality, neumfShare } from '../../../services/serving/ranking/model-quality.ts';
import { MemoryModelStore } from '../../../shared/adapters/memory/index.ts';
import { QUALITY_COUNTER, qualityFields } from '../../../shared/model/quality.ts';

const snap = (at: number, mf: [number, number], neumf: [number, number] = [0, 0]) => ({
  at,
  mf: { trials: mf[0], hits: mf[1] },
  neumf: { trials: neumf[0], hits: neumf[1] },
});

describe('neumfShare', () => {
  it('is 2 while NeuMF keeps up with MF, 0 at 80% of MF or below, linear between', () => {
    expect(neumfShare(0.5, 0.5)).toBe(2);
    expect(neumfShare(0.5, 0.6)).toBe(2);
    expect(neumfShare(0.5, 0.45)).toBeCloseTo(1, 12); // ratio 0.9: half way from 0.8 to 1
    expect(neumfShare(0.5, 0.4)).toBe(0);
    expect(neumfShare(0.5, 0.1)).toBe(0);
  });

  it('leaves the default when either rate is unknown', () => {
    expect(neumfShare(undefined, 0.1)).toBe(2);
    expect(neumfShare(0.5, undefined)).toBe(2);
    expect(neumfShare(0, 0)).toBe(2);
  });

  it('sets how much NeuMF weighs in the blend, and the label follows the larger part', () => {
    // share 0.5: model = (0.8 + 0.5 * 0.4) / 1.5 = 2/3; NeuMF's part 0.2 < MF's 0.8 -> mf
    const out = blend({ mf: 0.8, neumf: 0.4 }, 1, 0.5);
    expect(out.score).toBeCloseTo(2 / 3, 12);
    expect(out.source).toBe('mf');
    // share 0: NeuMF does not count at all
    expect(blend({ mf: 0.8, neumf: 1 }, 1, 0)).toEqual({ score: 0.8, source: 'mf' });
  });
});

describe('ModelQuality', () => {
  it(`needs ${MIN_TRIALS} trials, then measures HR over the window rather than since the start`, () => {
    const q = new ModelQuality(120_000);
    q.add(snap(0, [0, 0]));
    expect(q.hitRate('mf')).toBeUndefined();
    q.add(snap(1_000, [100, 50]));
    expect(q.hitRate('mf')).toBeUndefined(); // 100 < MIN_TRIALS
    q.add(snap(2_000, [300, 150]));
    expect(q.hitRate('mf')).toBe(0.5);
    // 200 s later: the window (120 s) starts at the 2 s snapshot: 300 more trials, 300 more hits.
    q.add(snap(200_000, [600, 450]));
    expect(q.hitRate('mf')).toBe(1); // since the start it would be 0.75
    // Few trials in the window: the cumulative rate stands in.
    q.add(snap(400_000, [650, 460]));
    expect(q.hitRate('mf')).toBeCloseTo(460 / 650, 12);
  });

  it('reads the counters the trainers commit', async () => {
    const store = new MemoryModelStore();
    const mf = qualityFields('mf');
    const neumf = qualityFields('neumf');
    await store.commit({
      counters: [
        { name: QUALITY_COUNTER, field: mf.trials, by: 400 },
        { name: QUALITY_COUNTER, field: mf.hits, by: 200 },
        { name: QUALITY_COUNTER, field: neumf.trials, by: 400 },
        { name: QUALITY_COUNTER, field: neumf.hits, by: 120 },
      ],
    });
    const q = new ModelQuality();
    await q.poll(store, 1_000);
    expect(q.hitRate('mf')).toBe(0.5);
    expect(q.hitRate('neumf')).toBe(0.3);
    expect(q.neumfShare()).toBe(0); // 0.3 / 0.5 = 60% of MF's
  });
});
