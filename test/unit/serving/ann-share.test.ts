import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AnnShare } from '../../../services/serving/index/ann-share.ts';
import { ItemIndex } from '../../../services/serving/index/item-index.ts';
import { Random } from '../../../shared/model/random.ts';
import type { Row } from '../../../shared/ports/index.ts';

const DIM = 8;
const N = 1_500;

const rowOf = (vector: readonly number[], bias = 0): Row => ({
  vector: Float32Array.from(vector),
  state: new Float32Array(0),
  bias,
  count: 1,
  version: 1,
  updatedAt: 0,
});

const folders: string[] = [];
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function shareDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-ann-share-test-'));
  folders.push(dir);
  return dir;
}

/** The same N items (clustered, with biases) in a given order of ids. */
function catalog(): Map<string, { vector: number[]; bias: number }> {
  const random = new Random(11);
  const centers = Array.from({ length: 12 }, () => Array.from({ length: DIM }, () => random.normal()));
  const items = new Map<string, { vector: number[]; bias: number }>();
  for (let i = 0; i < N; i++) {
    const c = centers[i % 12] as number[];
    items.set(`i${i}`, { vector: c.map((x) => x + 0.4 * random.normal()), bias: 0.2 * random.normal() });
  }
  return items;
}

function indexWith(share: AnnShare, ids: readonly string[], items: ReturnType<typeof catalog>): ItemIndex {
  const ix = new ItemIndex({ dim: DIM, seed: 1, initStd: 0, annThreshold: 1_000, annShare: share });
  for (const id of ids) {
    const item = items.get(id);
    if (item !== undefined) ix.setRow(ix.ensure(id), rowOf(item.vector, item.bias));
  }
  ix.trackChanges();
  return ix;
}

/** Two indexes of the same items on one share folder: the builder and a follower. */
function builderAndFollower(reversed: boolean, followerLacks: readonly string[] = []) {
  const dir = shareDir();
  const items = catalog();
  const ids = [...items.keys()];
  const builder = indexWith(new AnnShare(dir, true), ids, items);
  const known = ids.filter((id) => !followerLacks.includes(id));
  const follower = indexWith(new AnnShare(dir, false), reversed ? known.reverse() : known, items);
  return { items, builder, follower, dir };
}

/** Exact top k by u . v + b over the catalog, as ids. */
function exactTop(items: ReturnType<typeof catalog>, query: Float32Array, k: number): string[] {
  const scored = [...items].map(([id, { vector, bias }]) => ({
    id,
    score: vector.reduce((sum, v, d) => sum + v * (query[d] as number), bias),
  }));
  return scored
    .sort((a, b) => b.score - a.score)
    .slice(0, k)
    .map((e) => e.id);
}

describe('shared ANN builds (serving.annShareDir)', () => {
  it('one process builds, another with different positions adopts it, and both answer alike', async () => {
    // The follower met the items in another order: its positions differ from the builder's.
    const { items, builder, follower } = builderAndFollower(true);
    expect(follower.indexOf('i0')).toBe(N - 1);

    await follower.rebuildAnn();
    expect(follower.annActive).toBe(false); // a follower never builds
    expect(await follower.adoptSharedAnn()).toBe(false); // nothing published yet

    await builder.rebuildAnn();
    expect(builder.annActive).toBe(true);
    expect(await builder.adoptSharedAnn()).toBe(false); // its own build is the one in use
    expect(await follower.adoptSharedAnn()).toBe(true);
    expect(follower.annActive).toBe(true);
    expect(follower.annDirty).toBe(0);
    expect(await follower.adoptSharedAnn()).toBe(false); // once

    const random = new Random(4);
    let agree = 0;
    let hits = 0;
    for (let q = 0; q < 40; q++) {
      const query = Float32Array.from({ length: DIM }, () => random.normal());
      const fromBuilder = Array.from(builder.top(query, 10, () => false).indices, (p) => builder.idAt(p));
      const fromFollower = Array.from(follower.top(query, 10, () => false).indices, (p) => follower.idAt(p));
      if (fromBuilder.join() === fromFollower.join()) agree++;
      const truth = new Set(exactTop(items, query, 10));
      hits += fromFollower.filter((id) => truth.has(id)).length;
    }
    // The same graph, translated by id: the same answers (a wrong translation returns other items).
    expect(agree).toBe(40);
    expect(hits / 400).toBeGreaterThanOrEqual(0.95);
    builder.close();
    follower.close();
  }, 60_000);

  it('searches exactly what the build lacks: items changed while it was building, and items it never had', async () => {
    // The follower has not met i9 yet: the build's key for it translates to nothing.
    const { builder, follower } = builderAndFollower(false, ['i9']);
    // The follower knows an item the builder has not seen yet.
    const far = Array.from({ length: DIM }, () => 40);
    follower.setRow(follower.ensure('new-item'), rowOf(far));
    const build = builder.rebuildAnn();
    // Changed after the snapshot, during the build: in the builder's dirty set and in the follower's.
    const moved = Array.from({ length: DIM }, () => -40);
    builder.setRow(builder.indexOf('i3'), rowOf(moved));
    follower.setRow(follower.indexOf('i3'), rowOf(moved));
    await build;
    expect(builder.annDirty).toBe(1);
    expect(await follower.adoptSharedAnn()).toBe(true);
    // Both are scored exactly next to the index: i3 changed while it was building, new-item is not in it.
    expect(follower.annDirty).toBe(2);
    const top = (ix: ItemIndex, q: number[]) =>
      ix.idAt(ix.top(Float32Array.from(q), 1, () => false).indices[0] as number);
    expect(top(follower, far)).toBe('new-item');
    expect(top(follower, moved)).toBe('i3');
    expect(top(builder, moved)).toBe('i3');
    // Queries near i9: the build returns its key, which the follower skips (no position -1 or stale).
    const i9 = builder.vector(builder.indexOf('i9'));
    expect(Array.from(builder.top(i9, 10, () => false).indices, (p) => builder.idAt(p))).toContain('i9');
    const answer = follower.top(Float32Array.from(i9), 10, () => false).indices;
    expect(answer).toHaveLength(10);
    for (const p of answer) expect(p >= 0 && p < follower.size).toBe(true);
    builder.close();
    follower.close();
  }, 60_000);

  it('keeps the current and the previous build only, and a restarted builder adopts its last build', async () => {
    const dir = shareDir();
    const items = catalog();
    const ids = [...items.keys()];
    const share = new AnnShare(dir, true);
    const builder = indexWith(share, ids, items);
    const published: string[] = [];
    for (let round = 0; round < 3; round++) {
      await builder.rebuildAnn(true);
      published.push((share.current() as { id: string }).id);
    }
    expect(new Set(published).size).toBe(3);
    const builds = readdirSync(dir).filter((name) => name.startsWith('build-'));
    expect(builds.sort()).toEqual(published.slice(1).sort());
    expect(existsSync(join(dir, published[0] as string))).toBe(false);
    builder.close();
    // After a restart the builder maps the current build instead of building again.
    const restarted = indexWith(new AnnShare(dir, true), ids, items);
    expect(await restarted.adoptSharedAnn()).toBe(true);
    expect(restarted.annStale(0.05)).toBe(false);
    restarted.close();
  }, 60_000);
});

describe('AnnShare', () => {
  it('rejects a share folder it cannot create with CONFIG_INVALID', () => {
    const dir = shareDir();
    writeFileSync(join(dir, 'a-file'), 'x');
    expect(() => new AnnShare(join(dir, 'a-file', 'share'), true)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('tries a build that cannot be mapped once, and adopts the next one', async () => {
    const { builder, follower, dir } = builderAndFollower(false);
    await builder.rebuildAnn();
    const share = new AnnShare(dir, false);
    const current = share.current() as { id: string };
    // The build's ids file is damaged: adopting it fails, and is not tried again.
    writeFileSync(join(share.dir, current.id, 'ids.txt'), 'i1\ni2');
    await expect(follower.adoptSharedAnn()).rejects.toThrow(/lists 2 items/);
    expect(await follower.adoptSharedAnn()).toBe(false);
    await builder.rebuildAnn(true);
    expect(await follower.adoptSharedAnn()).toBe(true);
    builder.close();
    follower.close();
  }, 60_000);
});
