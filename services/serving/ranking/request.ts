import type { Context } from '../../../shared/model/context.ts';
import type { Source } from './blend.ts';

export interface RecommendRequest {
  readonly userId: string;
  readonly k: number;
  readonly offset: number;
  readonly context?: Context;
  readonly exclude?: readonly string[];
  readonly category?: string;
  readonly filterSeen: boolean;
  readonly maxPerCategory?: number;
  readonly resultId?: string;
}

export interface RankedItem {
  readonly itemId: string;
  readonly score: number;
  readonly source: Source;
}

export interface Recommendation {
  readonly items: readonly RankedItem[];
  readonly modelVersion: string;
  readonly resultId: string;
  /** Why no model shaped the answer: a user without interactions, or the store could not be read. */
  readonly fallback: 'none' | 'new_user' | 'degraded';
}

/**
 * The filters of a request that shape its ranking, as one string: a later page (resultId) must
 * repeat them, or it would silently show the page-0 ranking's filters. The context is not part
 * of it: later pages continue the ranking made for page 0's context.
 */
export function rulesOf(request: RecommendRequest): string {
  return JSON.stringify([
    request.category ?? null,
    [...new Set(request.exclude ?? [])].sort(),
    request.filterSeen,
    request.maxPerCategory ?? null,
  ]);
}
