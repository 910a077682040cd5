import { Random } from '../model/random.ts';
import type { InteractionEvent } from '../schemas/event.ts';
import type { ItemRecord } from '../schemas/item.ts';
import type { UserRecord } from '../schemas/user.ts';

/**
 * A synthetic catalog and interaction history with planted tastes, for the all-in-one demo
 * (`recsys start`) and the event generator: every user likes one genre on mobile and another on
 * desktop, so both the personal signal and the context matter, and a recommender that learns shows
 * it within seconds. Pure and deterministic for a seed.
 */
export const DEMO_GENRES = [
  'comedy',
  'drama',
  'action',
  'documentary',
  'animation',
  'scifi',
  'romance',
  'thriller',
] as const;
export type DemoGenre = (typeof DEMO_GENRES)[number];
export const DEMO_DEVICES = ['mobile', 'desktop'] as const;
export type DemoDevice = (typeof DEMO_DEVICES)[number];

export interface DemoWorldOptions {
  /** Users with a planted taste (default 400). */
  readonly users?: number;
  /** Items per genre (default 25). */
  readonly itemsPerGenre?: number;
  /** Mean events per user (default 40). */
  readonly eventsPerUser?: number;
  /** Share of events that follow the planted taste; the rest are popular items (default 0.85). */
  readonly tasteShare?: number;
  /** The history spans the `days` before `now` (default 14). */
  readonly days?: number;
  readonly now: number;
  readonly seed?: number;
}

export interface DemoPersona {
  readonly userId: string;
  /** The genre this user picks on each device. */
  readonly taste: Readonly<Record<DemoDevice, DemoGenre>>;
}

export interface DemoWorld {
  readonly items: readonly ItemRecord[];
  readonly users: readonly UserRecord[];
  readonly personas: readonly DemoPersona[];
  /** In time order. */
  readonly events: readonly InteractionEvent[];
  /** The genre of an item id. */
  genreOf(itemId: string): DemoGenre | undefined;
  /** A new event of a random persona, with the same planted tastes, at `now` (a live stream). */
  nextEvent(now: number): InteractionEvent;
}

const WORDS: Readonly<Record<DemoGenre, readonly [readonly string[], readonly string[]]>> = {
  comedy: [
    ['Accidental', 'Clumsy', 'Awkward', 'Lucky', 'Silly'],
    ['Wedding', 'Roommates', 'Road Trip', 'Office', 'Reunion'],
  ],
  drama: [
    ['Quiet', 'Broken', 'Distant', 'Long', 'Last'],
    ['Summer', 'Letters', 'Harbor', 'Inheritance', 'Winter'],
  ],
  action: [
    ['Iron', 'Rapid', 'Final', 'Shadow', 'Rogue'],
    ['Strike', 'Protocol', 'Pursuit', 'Siege', 'Extraction'],
  ],
  documentary: [
    ['Hidden', 'Wild', 'Ancient', 'Deep', 'Urban'],
    ['Oceans', 'Forests', 'Cities', 'Empires', 'Machines'],
  ],
  animation: [
    ['Little', 'Brave', 'Sleepy', 'Magic', 'Tiny'],
    ['Dragon', 'Robot', 'Fox', 'Kingdom', 'Balloon'],
  ],
  scifi: [
    ['Orbital', 'Quantum', 'Silent', 'Neon', 'Distant'],
    ['Colony', 'Signal', 'Frontier', 'Horizon', 'Paradox'],
  ],
  romance: [
    ['Paris', 'Second', 'Sudden', 'Autumn', 'Midnight'],
    ['Kiss', 'Chance', 'Promise', 'Waltz', 'Letters'],
  ],
  thriller: [
    ['Cold', 'Silent', 'Dark', 'Twisted', 'Blind'],
    ['Witness', 'Alibi', 'Trace', 'Motive', 'Hour'],
  ],
};

const TAGS = ['classic', 'new-release', 'award-winner', 'family', 'indie', 'series'] as const;

export function demoItemId(genre: DemoGenre, index: number): string {
  return `${genre}-${String(index + 1).padStart(3, '0')}`;
}

export function demoWorld(options: DemoWorldOptions): DemoWorld {
  const random = new Random(options.seed ?? 7);
  const perGenre = options.itemsPerGenre ?? 25;
  const userCount = options.users ?? 400;
  const perUser = options.eventsPerUser ?? 40;
  const tasteShare = options.tasteShare ?? 0.85;
  const span = (options.days ?? 14) * 86_400_000;

  const items: ItemRecord[] = [];
  const genres = new Map<string, DemoGenre>();
  for (const genre of DEMO_GENRES) {
    const [first, second] = WORDS[genre];
    for (let i = 0; i < perGenre; i++) {
      const itemId = demoItemId(genre, i);
      const title = `${first[i % first.length]} ${second[Math.floor(i / first.length) % second.length]}${
        i >= first.length * second.length ? ` ${Math.floor(i / (first.length * second.length)) + 1}` : ''
      }`;
      items.push({
        itemId,
        title,
        categories: [genre],
        tags: [genre, TAGS[random.int(TAGS.length)] as string],
        attributes: { decade: `${1970 + 10 * random.int(6)}s` },
      });
      genres.set(itemId, genre);
    }
  }

  // Within a genre, a few titles are hits (Zipf-like), as in real catalogs.
  const pickInGenre = (genre: DemoGenre): string => {
    const rank = Math.min(perGenre - 1, Math.floor(perGenre * random.next() ** 2));
    return demoItemId(genre, rank);
  };
  const popular = items.map((item) => item.itemId);
  const pickPopular = (): string => popular[Math.floor(popular.length * random.next() ** 3)] as string;

  /** One interaction of a persona: its device's genre most of the time, else a popular title. */
  const draw = (persona: DemoPersona): InteractionEvent => {
    const device: DemoDevice = random.next() < 0.55 ? 'mobile' : 'desktop';
    const hour = device === 'mobile' ? (18 + random.int(6)) % 24 : 9 + random.int(8);
    const itemId = random.next() < tasteShare ? pickInGenre(persona.taste[device]) : pickPopular();
    const roll = random.next();
    const type = roll < 0.08 ? 'purchase' : roll < 0.2 ? 'like' : 'click';
    return { userId: persona.userId, itemId, type, context: { device, hour } };
  };

  const personas: DemoPersona[] = [];
  const users: UserRecord[] = [];
  const drafts: { event: InteractionEvent; at: number }[] = [];
  for (let u = 0; u < userCount; u++) {
    const userId = `user-${String(u + 1).padStart(4, '0')}`;
    const mobile = DEMO_GENRES[random.int(DEMO_GENRES.length)] as DemoGenre;
    let desktop = DEMO_GENRES[random.int(DEMO_GENRES.length)] as DemoGenre;
    if (desktop === mobile) desktop = DEMO_GENRES[(DEMO_GENRES.indexOf(mobile) + 3) % DEMO_GENRES.length]!;
    personas.push({ userId, taste: { mobile, desktop } });
    users.push({ userId, attributes: { segment: random.int(2) === 0 ? 'free' : 'premium' } });
    const n = Math.max(5, Math.round(perUser * (0.5 + random.next())));
    for (let e = 0; e < n; e++) {
      const at = options.now - span + Math.floor(random.next() * span);
      drafts.push({ at, event: draw(personas[u] as DemoPersona) });
    }
  }
  drafts.sort((a, b) => a.at - b.at);
  const events = drafts.map(({ at, event }, i) => ({
    ...event,
    eventId: `demo-${i + 1}`,
    timestamp: at,
  }));
  let live = 0;
  return {
    items,
    users,
    personas,
    events,
    genreOf: (itemId) => genres.get(itemId),
    nextEvent(now) {
      const persona = personas[random.int(personas.length)] as DemoPersona;
      return { ...draw(persona), eventId: `live-${options.now}-${++live}`, timestamp: now };
    },
  };
}
