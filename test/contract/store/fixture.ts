import { afterEach, beforeEach } from 'vitest';
import type { ModelStore, RowDelta, RowValue } from '../../../shared/ports/index.ts';

export interface ModelStoreFixture {
  /** A store on a fresh, empty namespace. */
  readonly store: ModelStore;
  /** A second client on the same namespace (another process, in real deployments). */
  second(): Promise<ModelStore>;
  /** Another store on its own empty namespace (cleaned up with the fixture). */
  fresh(): Promise<ModelStore>;
  cleanup(): Promise<void>;
}

/** The store of the running test, opened before it and closed (with any `extra`) after it. */
export interface StoreUnderTest {
  readonly fixture: ModelStoreFixture;
  readonly store: ModelStore;
  /** Further stores a test opened, closed after it. */
  readonly extra: ModelStore[];
}

/** Opens a fixture before each test of the enclosing describe and cleans it up after. */
export function storeUnderTest(open: () => Promise<ModelStoreFixture>): StoreUnderTest {
  let fixture: ModelStoreFixture | undefined;
  const extra: ModelStore[] = [];
  beforeEach(async () => {
    fixture = await open();
  });
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((s) => s.close()));
    await fixture?.store.close();
    await fixture?.cleanup();
    fixture = undefined;
  });
  const current = (): ModelStoreFixture => {
    if (fixture === undefined) throw new Error('no store outside a test');
    return fixture;
  };
  return {
    get fixture() {
      return current();
    },
    get store() {
      return current().store;
    },
    extra,
  };
}

export const vec = (...values: number[]): Float32Array => Float32Array.from(values);

export function value(vector: Float32Array, bias = 0, count = 0, updatedAt = 1_000): RowValue {
  return { vector, bias, count, updatedAt };
}

export function delta(vector: Float32Array | Float64Array, extra: Partial<RowDelta> = {}): RowDelta {
  return { vector, bias: 0, count: 1, updatedAt: 1_000, ...extra };
}
