import { describe, expect, it } from 'vitest';
import { MemoryModelStore } from '../../../shared/adapters/memory/index.ts';
import {
  DENSE_CHUNK,
  DENSE_COUNTER,
  DENSE_TABLE,
  chunkIds,
} from '../../../shared/model/neumf/dense-layout.ts';
import { scoreCandidates, towerSize, unflattenTower } from '../../../shared/model/neumf/js-forward.ts';
import { DEFAULT_NEUMF_CONFIG, type NeuMfConfig } from '../../../shared/model/neumf/neumf.ts';
import { silentLogger } from '../../../shared/observability/index.ts';
import { NeumfScorer } from '../../../services/serving/ranking/neumf-scorer.ts';
import { row } from '../../support/serving.ts';

let hidden = [4, 2];
const config = (): NeuMfConfig => ({ ...DEFAULT_NEUMF_CONFIG, gmfDim: 2, mlpDim: 3, hidden, contextDim: 0 });
const items = ['a', 'b', 'c'];

function towerOf(seed: number): Float32Array {
  const shape = { gmfDim: 2, mlpDim: 3, contextWidth: 0, hidden };
  // Mostly positive weights: the ReLUs stay alive, so every input moves the logits.
  return Float32Array.from(
    { length: towerSize(shape) },
    (_, i) => 0.25 + 0.3 * Math.sin(seed * 31 + i * 1.7),
  );
}

async function publish(store: MemoryModelStore, tower: Float32Array): Promise<void> {
  await store.commit({
    puts: [
      {
        table: DENSE_TABLE,
        rows: chunkIds(tower.length).map((id, c) => ({
          id,
          value: row([...tower.subarray(c * DENSE_CHUNK, (c + 1) * DENSE_CHUNK)]),
        })),
      },
    ],
    counters: [{ name: DENSE_COUNTER, field: 'version', by: 1 }],
  });
}

async function putMlp(store: MemoryModelStore, rows: Record<string, number[]>): Promise<void> {
  const ids = Object.keys(rows);
  await store.commit({
    puts: [{ table: 'ncf:mlp:item', rows: ids.map((id) => ({ id, value: row(rows[id] as number[]) })) }],
    changedItems: { stream: 'neumf', ids },
  });
}

/** The logits computed from scratch, without any cache: the reference. */
function reference(
  tower: Float32Array,
  mlp: Record<string, number[]>,
  gmf: Record<string, number[]>,
): number[] {
  const shape = { gmfDim: 2, mlpDim: 3, contextWidth: 0, hidden };
  const out = scoreCandidates(
    shape,
    unflattenTower(shape, tower),
    Float32Array.of(0.5, -1),
    Float32Array.of(1, 0.25, -0.5),
    new Float32Array(0),
    items.length,
    (k) => Float32Array.from(gmf[items[k] as string] as number[]),
    (k) => Float32Array.from(mlp[items[k] as string] as number[]),
    new Float32Array(items.length),
  );
  return Array.from(out);
}

// [4, 2]: the plain JavaScript tower; [8, 4]: the WebAssembly SIMD one (widths multiple of 4).
describe.each([[[4, 2]], [[8, 4]]])('NeumfScorer first-layer cache, hidden %j', (layers) => {
  it('scores by position as from scratch, and forgets cached shares when a row or the tower changes', async () => {
    hidden = layers;
    const store = new MemoryModelStore();
    const gmf = { a: [1, 0], b: [0, 1], c: [1, 1] };
    let mlp: Record<string, number[]> = { a: [1, 2, 3], b: [1, 0, 1], c: [0.5, 0.5, 0.5] };
    await store.commit({
      puts: [{ table: 'ncf:gmf:item', rows: items.map((id) => ({ id, value: row(gmf[id as 'a']) })) }],
      newItems: { registry: 'neumf', ids: items },
    });
    await putMlp(store, mlp);
    let tower = towerOf(1);
    await publish(store, tower);
    const index = new NeumfScorer(config(), store, silentLogger());
    await index.load();
    expect(index.ready).toBe(true);
    // Caller positions 10, 11, 12 name a, b, c.
    const positions = [10, 11, 12];
    const idAt = (p: number) => items[p - 10] as string;
    const user = [Float32Array.of(0.5, -1), Float32Array.of(1, 0.25, -0.5), new Float32Array(0)] as const;
    const score = () => Array.from(index.scorePositions(...user, positions, idAt, new Float32Array(3)));
    const close = (got: number[], want: number[]) =>
      got.forEach((g, k) => expect(g).toBeCloseTo(want[k] as number, 5));
    close(score(), reference(tower, mlp, gmf));
    close(score(), reference(tower, mlp, gmf)); // served from the cache

    const before = score();
    mlp = { ...mlp, b: [4, 3, 2] };
    await putMlp(store, { b: mlp.b as number[] });
    await index.refresh();
    const after = score();
    expect(Math.abs((after[1] as number) - (before[1] as number))).toBeGreaterThan(1e-3); // b's row matters
    close(after, reference(tower, mlp, gmf));

    tower = towerOf(2);
    await publish(store, tower);
    await index.refresh();
    const retowered = score();
    expect(Math.abs((retowered[0] as number) - (after[0] as number))).toBeGreaterThan(1e-3);
    close(retowered, reference(tower, mlp, gmf));
    // By id, the same numbers.
    close(Array.from(index.score(...user, items, new Float32Array(3))), reference(tower, mlp, gmf));
  });
});
