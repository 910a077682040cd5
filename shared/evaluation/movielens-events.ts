import type { InteractionEvent, ItemRecord, UserRecord } from '../schemas/index.ts';
import { movieLensAgeBucket } from './models.ts';
import { inTimeOrder, type MovieLens } from './movielens.ts';

/** How MovieLens ratings become events: ratings as they are, or every rating as a click. */
export type ReplayAs = 'rating' | 'click';

/** The data set's ratings as interaction events, in time order (ids: u<user>, i<item>). */
export function movieLensEvents(data: MovieLens, as: ReplayAs): InteractionEvent[] {
  return inTimeOrder(data.ratings).map((r) => ({
    eventId: `ml100k-${r.user + 1}-${r.item + 1}`,
    userId: `u${r.user + 1}`,
    itemId: `i${r.item + 1}`,
    type: as,
    ...(as === 'rating' ? { value: r.rating } : {}),
    timestamp: r.time * 1000,
  }));
}

/** Catalog records: movies with their genres (tags) and release decade; users with demographics. */
export function movieLensCatalog(data: MovieLens): { items: ItemRecord[]; users: UserRecord[] } {
  return {
    items: data.items.map((item) => ({
      itemId: `i${item.id}`,
      title: item.title.slice(0, 1024),
      tags: item.genres.map((g) => g.toLowerCase()),
      ...(item.genres[0] !== undefined ? { categories: [item.genres[0].toLowerCase()] } : {}),
      ...(item.year !== undefined ? { attributes: { decade: `${Math.floor(item.year / 10) * 10}s` } } : {}),
    })),
    users: data.users.map((user) => ({
      userId: `u${user.id}`,
      attributes: { age: movieLensAgeBucket(user.age), gender: user.gender, occupation: user.occupation },
    })),
  };
}
