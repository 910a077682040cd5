import { describe, expect, it } from 'vitest';
import { DEMO_GENRES, demoWorld } from '../../../shared/demo/world.ts';
import { createEventCodec } from '../../../shared/schemas/index.ts';
import { defaultConfig } from '../../../shared/config/index.ts';

describe('demoWorld', () => {
  const now = Date.UTC(2026, 10, 25);
  const world = demoWorld({ now, seed: 3 });

  it('is deterministic for a seed and valid under the event contract', () => {
    expect(demoWorld({ now, seed: 3 }).events).toEqual(world.events);
    expect(demoWorld({ now, seed: 4 }).events).not.toEqual(world.events);
    const config = defaultConfig();
    const codec = createEventCodec({ types: config.events.types, maxBytes: config.events.maxBytes });
    for (const event of world.events.slice(0, 500)) expect(codec.validate(event).ok).toBe(true);
    expect(world.items).toHaveLength(DEMO_GENRES.length * 25);
    expect(new Set(world.items.map((i) => i.itemId)).size).toBe(world.items.length);
  });

  it('plants a taste per device: most events hit the genre of their device, in time order', () => {
    const personas = new Map(world.personas.map((p) => [p.userId, p]));
    let onTaste = 0;
    for (const e of world.events) {
      const device = e.context?.['device'] as 'mobile' | 'desktop';
      if (world.genreOf(e.itemId) === personas.get(e.userId)?.taste[device]) onTaste++;
    }
    // 85% follow the taste, and some of the popular picks land in it by chance.
    expect(onTaste / world.events.length).toBeGreaterThan(0.85);
    for (const p of world.personas) expect(p.taste.mobile).not.toBe(p.taste.desktop);
    const times = world.events.map((e) => e.timestamp as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(now - 14 * 86_400_000);
    expect(Math.max(...times)).toBeLessThanOrEqual(now);
  });
});
