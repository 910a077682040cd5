import { featuresOf, type FeatureSource } from '../../shared/model/features.ts';
import { initialVector } from '../../shared/model/random.ts';
import type { ModelStore, Row } from '../../shared/ports/index.ts';
import type { StoreGuard } from './store-guard.ts';

/** What a request knows about its user. */
export interface UserState {
  /** MF composite vector (id row plus the mean of feature rows), or undefined for a stranger. */
  readonly mf: Float32Array | undefined;
  /** Interactions MF learned from this user. */
  readonly mfCount: number;
  readonly ncf:
    { readonly gmf: Float32Array; readonly mlp: Float32Array; readonly count: number } | undefined;
  /** Recent items, oldest first. */
  readonly history: readonly string[];
  /** True when the store could not be read: the user is treated as new. */
  readonly degraded: boolean;
}

export interface UserStateOptions {
  readonly store: ModelStore;
  readonly guard: StoreGuard;
  readonly dim: number;
  readonly seed: number;
  readonly initStd: number;
  readonly neumf: boolean;
  /** How long user feature rows are cached. */
  readonly featureTtlMs?: number;
}

/**
 * Reads a user's rows, history and features in one round of parallel store calls (each bounded
 * by the store guard). A failed read degrades the request to the new-user path; it never fails it.
 */
export class UserStateReader {
  readonly #options: UserStateOptions;
  readonly #features = new Map<string, { row: Row | undefined; at: number }>();

  constructor(options: UserStateOptions) {
    this.#options = options;
  }

  async read(userId: string): Promise<UserState> {
    const { store, guard, neumf } = this.#options;
    const ids = [userId];
    try {
      const [mfRows, gmfRows, mlpRows, histories, records] = await Promise.all([
        guard.call('getRows', () => store.getRows('mf:user', ids)),
        neumf
          ? guard.call('getRows', () => store.getRows('ncf:gmf:user', ids))
          : Promise.resolve([undefined]),
        neumf
          ? guard.call('getRows', () => store.getRows('ncf:mlp:user', ids))
          : Promise.resolve([undefined]),
        guard.call('getHistories', () => store.getHistories(ids)),
        guard.call('getUsers', () => store.getUsers(ids)),
      ]);
      const mfRow = mfRows[0];
      const record = records[0] as FeatureSource | undefined;
      const features = record === undefined ? [] : featuresOf(record);
      let mf: Float32Array | undefined;
      if (mfRow !== undefined || features.length > 0) {
        mf = new Float32Array(this.#options.dim);
        if (mfRow !== undefined) mf.set(mfRow.vector.subarray(0, this.#options.dim));
        else if (this.#options.initStd > 0)
          initialVector(mf, this.#options.seed, 'mf:user', userId, this.#options.initStd);
        if (features.length > 0) await this.#addFeatures(mf, features);
      }
      const gmf = gmfRows[0];
      const mlp = mlpRows[0];
      return {
        mf,
        mfCount: mfRow?.count ?? 0,
        ncf:
          gmf !== undefined && mlp !== undefined
            ? { gmf: gmf.vector, mlp: mlp.vector, count: gmf.count }
            : undefined,
        history: histories[0] ?? [],
        degraded: false,
      };
    } catch (error) {
      if (error instanceof TypeError || error instanceof RangeError) throw error;
      return { mf: undefined, mfCount: 0, ncf: undefined, history: [], degraded: true };
    }
  }

  async #addFeatures(out: Float32Array, features: readonly { key: string; weight: number }[]): Promise<void> {
    const now = Date.now();
    const ttl = this.#options.featureTtlMs ?? 60_000;
    const stale = features
      .map((f) => f.key)
      .filter((key) => {
        const cached = this.#features.get(key);
        return cached === undefined || now - cached.at > ttl;
      });
    if (stale.length > 0) {
      const rows = await this.#options.guard.call('getRows', () =>
        this.#options.store.getRows('mf:user-feature', stale),
      );
      stale.forEach((key, k) => this.#features.set(key, { row: rows[k], at: now }));
      if (this.#features.size > 100_000) this.#features.clear();
    }
    const scale = 1 / features.length;
    for (const f of features) {
      const row = this.#features.get(f.key)?.row?.vector;
      const vector =
        row ??
        initialVector(
          new Float32Array(out.length),
          this.#options.seed,
          'mf:user-feature',
          f.key,
          this.#options.initStd,
        );
      for (let d = 0; d < out.length; d++)
        out[d] = (out[d] as number) + scale * f.weight * (vector[d] as number);
    }
  }
}
