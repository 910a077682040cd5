import { RecsysError } from '../../../shared/errors/index.ts';
import type { ItemIndex } from '../index/item-index.ts';
import { interactionWeight, type Source } from './blend.ts';

export interface SimilarItem {
  readonly itemId: string;
  readonly score: number;
  readonly source: Source;
}

/**
 * Items similar to an item (GET /v1/items/:itemId/similar): MF cosine, blended with content
 * similarity by the less-trained item of each pair. An MF similarity is only as good as that
 * item: a new item's MF row is still its initial vector, so between an established item and a
 * new one content speaks (the new item reaches the lists of the items it resembles before anyone
 * clicks it).
 */
export function similarItems(index: ItemIndex, itemId: string, k: number, half: number): SimilarItem[] {
  const p = index.indexOf(itemId);
  if (p < 0 || index.deleted(p)) {
    throw new RecsysError('NOT_FOUND', {
      message: `No item "${itemId}" is known to the catalog or the models.`,
    });
  }
  const skip = (q: number) => !index.servable(q);
  const depth = Math.max(k * 3, 50);
  const scores = new Map<number, { mf: number; content: number }>();
  const mf = index.similar(p, depth, skip);
  mf.indices.forEach((q, j) => scores.set(q, { mf: Math.max(0, mf.scores[j] as number), content: 0 }));
  const content = index.content.similar(p, depth, skip);
  content.indices.forEach((q, j) => {
    const entry = scores.get(q) ?? { mf: 0, content: 0 };
    entry.content = content.scores[j] as number;
    scores.set(q, entry);
  });
  const wp = interactionWeight(index.count(p), half);
  return [...scores]
    .map(([q, s]) => {
      const w = Math.min(wp, interactionWeight(index.count(q), half));
      return {
        itemId: index.idAt(q),
        score: w * s.mf + (1 - w) * s.content,
        source: (w * s.mf >= (1 - w) * s.content ? 'mf' : 'content') as Source,
      };
    })
    .sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1))
    .slice(0, k);
}
