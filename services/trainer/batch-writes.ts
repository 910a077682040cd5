import type { ContextEncoder } from '../../shared/model/context.ts';
import type { ModelName } from '../../shared/model/registry.ts';
import { logAdd2, popularityLogScore } from '../../shared/model/popularity.ts';
import { QUALITY_COUNTER, QUALITY_HIT_RANK, qualityFields } from '../../shared/model/quality.ts';
import type { CounterIncrement, HistoryAppend, PopularityIncrement } from '../../shared/ports/index.ts';
import type { BatchEvent } from './decode.ts';

/**
 * What a group commit writes besides the model's rows, computed from the batches' events: the
 * exact counters (they commit with the offsets) and, for the primary model, serving's data.
 */

/** Per-user event counters of a model: `events:<model>` -> userId -> count. */
export const eventCounter = (model: string): string => `events:${model}`;

/** Prequential trials and top-10 hits of the batch, for serving's model weighting. */
export function qualityIncrements(model: ModelName, ranks: readonly number[]): CounterIncrement[] {
  if (ranks.length === 0) return [];
  const fields = qualityFields(model);
  const hits = ranks.filter((rank) => rank < QUALITY_HIT_RANK).length;
  return [
    { name: QUALITY_COUNTER, field: fields.trials, by: ranks.length },
    ...(hits > 0 ? [{ name: QUALITY_COUNTER, field: fields.hits, by: hits }] : []),
  ];
}

/**
 * Per-user and per-type event counts of a model, and with `audit` one `applied:<model>` field
 * per event id (trainer.auditEventIds: what the crash tests count).
 */
export function eventCounters(
  model: string,
  events: readonly BatchEvent[],
  audit: boolean,
): CounterIncrement[] {
  const perUser = new Map<string, number>();
  const perType = new Map<string, number>();
  for (const e of events) {
    perUser.set(e.event.userId, (perUser.get(e.event.userId) ?? 0) + 1);
    perType.set(e.event.type, (perType.get(e.event.type) ?? 0) + 1);
  }
  const applied = audit
    ? events
        .filter((e) => e.event.eventId !== undefined)
        .map((e) => ({ name: `applied:${model}`, field: e.event.eventId as string, by: 1 }))
    : [];
  return [
    ...[...perUser].map(([field, by]) => ({ name: eventCounter(model), field, by })),
    ...[...perType].map(([field, by]) => ({ name: `types:${model}`, field, by })),
    ...applied,
  ];
}

/** Recent histories and time-decayed popularity per context segment, for serving. */
export function servingData(
  events: readonly BatchEvent[],
  context: ContextEncoder,
  popularity: { readonly halfLifeMs: number; readonly epochMs: number },
): { history: HistoryAppend[]; popularity: PopularityIncrement[] } {
  const history = new Map<string, string[]>();
  const scores = new Map<string, number>();
  for (const e of events) {
    if (e.weight <= 0) continue;
    const list = history.get(e.event.userId) ?? [];
    list.push(e.event.itemId);
    history.set(e.event.userId, list);
    const score = popularityLogScore(e.weight, e.time, popularity.epochMs, popularity.halfLifeMs);
    if (!Number.isFinite(score)) continue;
    for (const segment of ['*', context.segment(e.event.context, e.time)]) {
      const key = `${segment}\u0000${e.event.itemId}`;
      scores.set(key, logAdd2(scores.get(key) ?? Number.NEGATIVE_INFINITY, score));
    }
  }
  return {
    history: [...history].map(([userId, items]) => ({ userId, items })),
    popularity: [...scores].map(([key, by]) => {
      const [segment, itemId] = key.split('\u0000') as [string, string];
      return { segment, itemId, by };
    }),
  };
}
