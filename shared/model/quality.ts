import type { ModelName } from './registry.ts';

/**
 * Live model quality, shared by the trainer (which measures it) and serving (which weighs the
 * models by it). The trainer ranks a sample of events before learning them (prequential
 * evaluation: the true item among 99 random ones) and adds, in the same atomic write as the
 * batch, how many it ranked and how many landed in the top 10 to the counter hash below.
 */
export const QUALITY_COUNTER = 'quality';

/** Counter fields of a model: sampled events and top-10 hits among them. */
export function qualityFields(model: ModelName): { readonly trials: string; readonly hits: string } {
  return { trials: `${model}:trials`, hits: `${model}:hits` };
}

/** A prequential rank (0-based among 100) counts as a hit below this. */
export const QUALITY_HIT_RANK = 10;
