import type { Random } from './random.ts';

/**
 * The rank (0-based: 0 is the top) of a target score among the scores in [from, to) that `skip`
 * does not leave out, under the one tie rule of every protocol (shared/evaluation/protocols) and
 * of the trainers' live metrics: the scores strictly above the target, plus a uniform draw of
 * the target's place among the scores equal to it. Counting ties as above would punish a model
 * for ties (a fresh model scores everything alike), counting them as below would reward it.
 */
export function rankAmong(
  target: number,
  scores: ArrayLike<number>,
  from: number,
  to: number,
  random: Random,
  skip?: (index: number) => boolean,
): number {
  let greater = 0;
  let ties = 0;
  for (let i = from; i < to; i++) {
    if (skip?.(i) === true) continue;
    const s = scores[i] as number;
    if (s > target) greater++;
    else if (s === target) ties++;
  }
  return greater + (ties > 0 ? random.int(ties + 1) : 0);
}

/**
 * The candidates of the trainers' live rank: the item, then up to 99 random items of `size`
 * (at most 300 draws) that are neither the item nor in `excluded` (the user's recent items).
 */
export function liveRankCandidates(
  item: number,
  size: number,
  idAt: (index: number) => string,
  excluded: { has(id: string): boolean },
  random: Random,
): number[] {
  const candidates = [item];
  for (let attempt = 0; attempt < 300 && candidates.length < 100; attempt++) {
    const j = random.int(size);
    if (j !== item && !excluded.has(idAt(j))) candidates.push(j);
  }
  return candidates;
}
