import type { TransitionIncrement, TransitionList } from '../ports/index.ts';

/**
 * Both adapters keep an item's transition list as one scored set, neighbour id -> weight, with
 * the item's degree under this member (no item id is empty: shared/schemas/limits.ts). One key per
 * item: the degree changes with its list, in the same place.
 */
export const DEGREE_MEMBER = '';

/** The increments of a batch summed per item, the degree included (what a store adds). */
export function transitionSums(increments: readonly TransitionIncrement[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const { itemId, neighborId, by } of increments) {
    let row = out.get(itemId);
    if (row === undefined) out.set(itemId, (row = new Map()));
    row.set(neighborId, (row.get(neighborId) ?? 0) + by);
    row.set(DEGREE_MEMBER, (row.get(DEGREE_MEMBER) ?? 0) + by);
  }
  return out;
}

/**
 * Members of a scored set ordered as Redis ranks them from the top: greater score first, equal
 * scores by member in reverse byte order.
 */
export function byRedisRank(a: readonly [string, number], b: readonly [string, number]): number {
  return b[1] - a[1] || Buffer.compare(Buffer.from(b[0]), Buffer.from(a[0]));
}

/** A stored set (degree member included) as the port returns it. */
export function transitionListOf(members: Iterable<readonly [string, number]>): TransitionList {
  let degree = 0;
  const neighbors: { itemId: string; weight: number }[] = [];
  for (const [member, weight] of [...members].sort(byRedisRank)) {
    if (member === DEGREE_MEMBER) degree = weight;
    else neighbors.push({ itemId: member, weight });
  }
  return { degree, neighbors };
}
