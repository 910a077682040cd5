import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MODEL_NAMES, MODELS, hasSignal } from '../../../shared/model/registry.ts';
import { SERVING_SOURCES, SOURCES, Source } from '../../../shared/schemas/api.ts';
import { createServingMetrics, initServingSeries } from '../../../services/serving/process/metrics.ts';

describe('model registry', () => {
  it("derives the API's source values from each model's source plus serving's own, each once", () => {
    const fromModels = MODEL_NAMES.map((name) => MODELS[name].source);
    expect([...SOURCES]).toEqual([...fromModels, ...SERVING_SOURCES]);
    expect(new Set(SOURCES).size).toBe(SOURCES.length);
    const literals = (Source as unknown as { anyOf: { const: string }[] }).anyOf.map((s) => s.const);
    expect(literals).toEqual([...SOURCES]);
  });

  it('labels the served-items metric with every source', async () => {
    const registry = new Registry();
    const metrics = createServingMetrics(registry);
    initServingSeries(metrics);
    const served = (await registry.getMetricsAsJSON()).find(
      (m) => m.name === 'recsys_serving_items_served_total',
    );
    expect(served?.values.map((v) => v.labels['source']).sort()).toEqual([...SOURCES].sort());
  });

  it('tells serving which signals the configured models give', () => {
    expect(hasSignal(['mf'], 'personal')).toBe(true);
    expect(hasSignal(['mf'], 'rerank')).toBe(false);
    expect(hasSignal(['mf', 'neumf'], 'rerank')).toBe(true);
    expect(hasSignal(['mf', 'neumf'], 'session')).toBe(false);
    expect(hasSignal(['session'], 'session')).toBe(true);
  });
});
