import { describe, expect, it } from 'vitest';
import { DEFAULT_ANN_PARAMS, annSearchBeam } from '../../../services/serving/index/ann-index.ts';
import { ItemIndex } from '../../../services/serving/index/item-index.ts';
import type { Row } from '../../../shared/ports/index.ts';
import { BruteForceTopK } from '../../../shared/model/topk.ts';
import { Random } from '../../../shared/model/random.ts';

const rowOf = (vector: number[], bias = 0, count = 1): Row => ({
  vector: Float32Array.from(vector),
  state: new Float32Array(0),
  bias,
  count,
  version: 1,
  updatedAt: 0,
});

function index(annThreshold = 1_000_000): ItemIndex {
  return new ItemIndex({ dim: 2, seed: 1, initStd: 0, annThreshold });
}

describe('ItemIndex', () => {
  it('builds composite vectors: id row plus the weighted mean of feature rows', () => {
    const ix = index();
    const p = ix.ensure('a');
    ix.setRow(p, rowOf([1, 0], 0.5, 3));
    const missing = ix.setCatalog(p, { itemId: 'a', tags: ['x', 'y'] });
    expect(missing.sort()).toEqual(['tag:x', 'tag:y']);
    ix.setFeatureRows(['tag:x', 'tag:y'], [rowOf([2, 2]), rowOf([0, 4])]);
    ix.recomputeRange(0, 1);
    // [1, 0] + ([2, 2] + [0, 4]) / 2 = [2, 3]
    expect(Array.from(ix.vector(p))).toEqual([2, 3]);
    // u . v + b = [1, 1] . [2, 3] + 0.5
    expect(ix.score(Float32Array.of(1, 1), p)).toBe(5.5);
    expect(ix.count(p)).toBe(3);
  });

  it('ranks exactly, skipping hidden and deleted items, and restricts to a category', () => {
    const ix = index();
    const rows: [string, number[], Record<string, unknown>][] = [
      ['a', [3, 0], { itemId: 'a', categories: ['Books'] }],
      ['b', [2, 0], { itemId: 'b', categories: ['music'], hidden: true }],
      ['c', [1, 0], { itemId: 'c', categories: ['books'] }],
      ['d', [0.5, 0], { itemId: 'd', categories: ['music'] }],
    ];
    for (const [id, v, record] of rows) {
      const p = ix.ensure(id);
      ix.setRow(p, rowOf(v));
      ix.setCatalog(p, record);
    }
    ix.setCatalog(ix.indexOf('a'), undefined); // deleted
    const q = Float32Array.of(1, 0);
    const skip = (p: number) => !ix.servable(p);
    expect(Array.from(ix.top(q, 10, skip).indices, (p) => ix.idAt(p))).toEqual(['c', 'd']);
    expect(Array.from(ix.top(q, 10, skip, ix.inCategory('BOOKS')).indices, (p) => ix.idAt(p))).toEqual(['c']);
    expect(ix.deleted(ix.indexOf('a'))).toBe(true);
    expect(ix.hidden(ix.indexOf('b'))).toBe(true);
  });

  it('finds similar items by cosine of composite vectors', () => {
    const ix = index();
    for (const [id, v] of [
      ['a', [1, 0]],
      ['b', [10, 1]],
      ['c', [0, 1]],
    ] as const)
      ix.setRow(ix.ensure(id), rowOf([...v]));
    const near = ix.similar(ix.indexOf('a'), 2, () => false);
    expect(Array.from(near.indices, (p) => ix.idAt(p))).toEqual(['b', 'c']);
    expect(near.scores[0]).toBeCloseTo(10 / Math.sqrt(101), 6);
  });

  it('starts a row the trainer never wrote where the trainer would (seeded initial row)', () => {
    const a = new ItemIndex({ dim: 4, seed: 7, initStd: 0.1, annThreshold: 10 });
    const b = new ItemIndex({ dim: 4, seed: 7, initStd: 0.1, annThreshold: 10 });
    expect(Array.from(a.vector(a.ensure('new')))).toEqual(Array.from(b.vector(b.ensure('new'))));
    expect(Array.from(a.vector(a.ensure('new'))).some((x) => x !== 0)).toBe(true);
  });

  it('answers from an HNSW index above the threshold with recall@10 >= 0.95 against brute force', async () => {
    const dim = 16;
    const n = 5_000;
    const ix = new ItemIndex({ dim, seed: 1, initStd: 0, annThreshold: 1_000 });
    const random = new Random(3);
    // Clustered items with biases, like learned embeddings.
    const centers = Array.from({ length: 20 }, () => Array.from({ length: dim }, () => random.normal()));
    const vectors = new Float32Array(n * dim);
    const biases = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const c = centers[i % 20] as number[];
      const v = c.map((x) => x + 0.5 * random.normal());
      vectors.set(v, i * dim);
      biases[i] = 0.3 * random.normal();
      ix.setRow(ix.ensure(`i${i}`), rowOf(v, biases[i] as number));
    }
    await ix.rebuildAnn();
    expect(ix.annActive).toBe(true);
    const exact = new BruteForceTopK(() => ({ vectors, count: n, dim, biases }));
    let hits = 0;
    for (let q = 0; q < 50; q++) {
      const query = Float32Array.from({ length: dim }, () => random.normal());
      const truth = new Set(exact.search(query, 10).indices);
      for (const p of ix.top(query, 10, () => false).indices) if (truth.has(p)) hits++;
    }
    expect(hits / 500).toBeGreaterThanOrEqual(0.95);
    // An item changed after the build is still found (scored exactly next to the ANN results).
    const big = Array.from({ length: dim }, () => 50);
    ix.setRow(ix.indexOf('i7'), rowOf(big, 0, 1));
    expect(ix.idAt(ix.top(Float32Array.from(big), 1, () => false).indices[0] as number)).toBe('i7');
    // Re-applying rows as they are (a periodic full reload) changes nothing: no version bump, no
    // items sent to the exact re-scoring next to the index, no rebuild.
    const version = ix.version;
    const dirty = ix.annDirty;
    for (let i = 0; i < n; i++)
      if (i !== 7)
        ix.setRow(
          ix.indexOf(`i${i}`),
          rowOf([...vectors.subarray(i * dim, (i + 1) * dim)], biases[i] as number),
        );
    expect(ix.version).toBe(version);
    expect(ix.annDirty).toBe(dirty);
    ix.setRow(ix.indexOf('i8'), rowOf(big, 1, 1));
    expect(ix.annDirty).toBe(dirty + 1);
    ix.close();
  }, 60_000);
});

describe('annSearchBeam', () => {
  it('widens the HNSW search beam with the catalog unless one is configured', () => {
    expect(DEFAULT_ANN_PARAMS.quantization).toBe('i8');
    expect(annSearchBeam(DEFAULT_ANN_PARAMS, 60_000)).toBe(256);
    expect(annSearchBeam(DEFAULT_ANN_PARAMS, 250_000)).toBe(256);
    expect(annSearchBeam(DEFAULT_ANN_PARAMS, 250_001)).toBe(384);
    expect(annSearchBeam({ ...DEFAULT_ANN_PARAMS, expansionSearch: 64 }, 1_000_000)).toBe(64);
  });
});

describe('ItemIndex.annStale', () => {
  it('asks for an HNSW build when the catalog crosses the threshold or enough items changed, not otherwise', async () => {
    const dim = 4;
    const ix = new ItemIndex({ dim, seed: 1, initStd: 0, annThreshold: 1_000 });
    const random = new Random(5);
    const put = (i: number) =>
      ix.setRow(
        ix.ensure(`i${i}`),
        rowOf(
          Array.from({ length: dim }, () => random.normal()),
          0,
        ),
      );
    for (let i = 0; i < 900; i++) put(i);
    expect(ix.annStale(0.05)).toBe(false); // below the threshold, no index: nothing to do
    for (let i = 900; i < 1_500; i++) put(i);
    expect(ix.annStale(0.05)).toBe(true); // above it, no index yet
    await ix.rebuildAnn();
    expect(ix.annActive).toBe(true);
    expect(ix.annStale(0.05)).toBe(false); // a full reload that changed nothing rebuilds nothing
    for (let i = 0; i < 1_000; i++) put(i);
    expect(ix.annDirty).toBe(1_000);
    expect(ix.annStale(0.05)).toBe(false); // at most 1,000 (or 5%) changed: scored exactly meanwhile
    put(1_000);
    expect(ix.annStale(0.05)).toBe(true);
    expect(ix.annStale(0.9)).toBe(false); // the share is the caller's
    ix.close();
  }, 60_000);
});

describe('ItemIndex.catalogVersion', () => {
  it("moves (and tells its listeners) only when an item's content features change, so re-applied records keep the neighbour lists", () => {
    const ix = index();
    const changed: number[] = [];
    ix.onContentChange((p) => changed.push(p));
    const a = ix.ensure('a');
    const b = ix.ensure('b');
    ix.setCatalog(a, { itemId: 'a', tags: ['x', 'y'], categories: ['books'] });
    ix.setCatalog(b, { itemId: 'b', tags: ['x'] });
    const loaded = ix.catalogVersion;
    expect(loaded).toBe(2);
    // A full reload applies the same records again: nothing moves, not even the model version.
    const version = ix.version;
    expect(ix.setCatalog(a, { itemId: 'a', tags: ['X', 'y'], categories: ['Books'] })).toEqual([]);
    expect(ix.version).toBe(version);
    expect([...(ix.inCategory('books') ?? [])]).toEqual([a]);
    // Hiding an item changes no features either.
    ix.setCatalog(b, { itemId: 'b', tags: ['x'], hidden: true });
    expect(ix.catalogVersion).toBe(loaded);
    expect(ix.hidden(b)).toBe(true);
    expect(ix.content.similarity(a, b)).toBeGreaterThan(0);
    // A new tag, a numeric attribute's new value, a deletion: each moves it.
    ix.setCatalog(b, { itemId: 'b', tags: ['x', 'z'], hidden: true });
    expect(ix.catalogVersion).toBe(loaded + 1);
    ix.setCatalog(b, { itemId: 'b', tags: ['x', 'z'], attributes: { price: 0.5 } });
    ix.setCatalog(b, { itemId: 'b', tags: ['x', 'z'], attributes: { price: 0.25 } });
    expect(ix.catalogVersion).toBe(loaded + 3);
    ix.setCatalog(a, undefined);
    expect(ix.catalogVersion).toBe(loaded + 4);
    expect(ix.content.similarity(a, b)).toBe(0);
    // Deleting it again changes nothing more.
    ix.setCatalog(a, undefined);
    expect(ix.catalogVersion).toBe(loaded + 4);
    // The listener heard of exactly the changes that moved the version.
    expect(changed).toEqual([a, b, b, b, b, a]);
  });
});
