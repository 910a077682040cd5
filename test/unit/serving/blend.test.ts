import { describe, expect, it } from 'vitest';
import { blend, interactionWeight, rankNormalize } from '../../../services/serving/ranking/blend.ts';

describe('rankNormalize', () => {
  it('gives the best n/n, the worst 1/n and a missing signal 0', () => {
    // values 0.2, missing, 5, -1: defined n = 3; order 5 (rank 0) -> 3/3, 0.2 -> 2/3, -1 -> 1/3
    expect(Array.from(rankNormalize([0.2, undefined, 5, -1]))).toEqual([2 / 3, 0, 1, 1 / 3]);
  });

  it('gives equal values the same (better) score', () => {
    expect(Array.from(rankNormalize([1, 1]))).toEqual([1, 1]);
    expect(Array.from(rankNormalize([0.2, 0.5, 0.5, undefined, 0.1]))).toEqual([0.5, 1, 1, 0, 0.25]);
  });
});

describe('interactionWeight', () => {
  it('is n / (n + half): 0 for nobody, 1/2 at half, towards 1 after', () => {
    expect(interactionWeight(0, 10)).toBe(0);
    expect(interactionWeight(10, 10)).toBe(0.5);
    expect(interactionWeight(30, 10)).toBe(0.75);
  });
});

describe('blend', () => {
  it('gives a new user (w = 0) the fallback, labelled by its strongest signal', () => {
    expect(blend({ mf: 1, popular: 0.4, content: 0.7 }, 0)).toEqual({ score: 0.7, source: 'content' });
    // popularity is scaled by 0.8: 0.8 * 1 = 0.8 beats content 0.7
    const popular = blend({ popular: 1, content: 0.7 }, 0);
    expect(popular.score).toBeCloseTo(0.8, 12);
    expect(popular.source).toBe('popular');
    // ... but content 0.85 beats 0.8 * 1
    expect(blend({ popular: 1, content: 0.85 }, 0).source).toBe('content');
  });

  it('mixes model and fallback by w: 0.75 * model + 0.25 * fallback, NeuMF weighing twice MF', () => {
    // model = (mf 0.8 + 2 * neumf 0.4) / 3 = 1.6 / 3; fallback = 0.8 * popular 1 = 0.8
    // score = 0.75 * 1.6 / 3 + 0.25 * 0.8 = 0.4 + 0.2 = 0.6; model part 0.4 >= 0.2 -> neumf
    const out = blend({ mf: 0.8, neumf: 0.4, popular: 1 }, 0.75);
    expect(out.score).toBeCloseTo(0.6, 12);
    expect(out.source).toBe('neumf');
  });

  it('labels the fallback when it outweighs the model', () => {
    // 0.2 * 0.5 = 0.1 vs 0.8 * 0.9 = 0.72
    const out = blend({ mf: 0.5, similar: 0.9 }, 0.2);
    expect(out.score).toBeCloseTo(0.82, 12);
    expect(out.source).toBe('similar');
  });

  it('adds the session signal to the personal side: (model + share * session) / (1 + share)', () => {
    // (0.6 + 1 * 0.9) / 2 = 0.75, the session's part the larger
    expect(blend({ mf: 0.6, session: 0.9 }, 1)).toEqual({ score: 0.75, source: 'session' });
    // weight 3: (0.6 + 3 * 0.1) / 4 = 0.225; 3 * 0.1 is below 0.6 -> mf
    const weighted = blend({ mf: 0.6, session: 0.1 }, 1, 2, 3);
    expect(weighted.score).toBeCloseTo(0.225, 12);
    expect(weighted.source).toBe('mf');
    // An item the session knows nothing of scores 0 there: (0.8 + 0) / 2
    expect(blend({ mf: 0.8, session: 0 }, 1)).toEqual({ score: 0.4, source: 'mf' });
    // Weight 0: the model alone
    expect(blend({ mf: 0.8, session: 1 }, 1, 2, 0)).toEqual({ score: 0.8, source: 'mf' });
    // w = 0.5: 0.5 * (0.4 + 1) / 2 + 0.5 * max(session 1, similar 0.3) = 0.35 + 0.5
    const mixed = blend({ mf: 0.4, session: 1, similar: 0.3 }, 0.5);
    expect(mixed.score).toBeCloseTo(0.85, 12);
    expect(mixed.source).toBe('session');
  });

  it('keeps the model label for a model-only candidate, even at w = 0', () => {
    expect(blend({ mf: 0.9 }, 0)).toEqual({ score: 0, source: 'mf' });
  });
});
