import { featuresOf, type FeatureSource } from '../../shared/model/features.ts';
import { initialVector } from '../../shared/model/random.ts';
import type { ModelStore, Row, RowTable } from '../../shared/ports/index.ts';
import type { StoreGuard } from './store-guard.ts';

/** What a request knows about its user. */
export interface UserState {
  /** MF composite vector (id row plus the mean of feature rows), or undefined for a stranger. */
  readonly mf: Float32Array | undefined;
  /** Interactions MF learned from this user. */
  readonly mfCount: number;
  /**
   * Share (0-1) of the user's features whose rows the trainer has learnt (from other users with
   * the same features): how much the feature part of `mf` says about a user with no history.
   */
  readonly trainedFeatures: number;
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

const MF_TABLES: readonly RowTable[] = ['mf:user'];
const NEUMF_TABLES: readonly RowTable[] = ['mf:user', 'ncf:gmf:user', 'ncf:mlp:user'];

/**
 * Reads a user's rows, history and record in one store call (getUserState, bounded by the store
 * guard: one command instead of five, which was a tenth of a request's client-side work), then
 * the user's feature rows when the record has features (cached). A failed read degrades the
 * request to the new-user path; it never fails it.
 */
export class UserStateReader {
  readonly #options: UserStateOptions;
  readonly #features = new Map<string, { row: Row | undefined; at: number }>();

  constructor(options: UserStateOptions) {
    this.#options = options;
  }

  async read(userId: string): Promise<UserState> {
    const { store, guard, neumf } = this.#options;
    try {
      const state = await guard.call('getUserState', () =>
        store.getUserState(userId, neumf ? NEUMF_TABLES : MF_TABLES),
      );
      const [mfRow, gmf, mlp] = state.rows;
      const record = state.record as FeatureSource | undefined;
      const features = record === undefined ? [] : featuresOf(record);
      let mf: Float32Array | undefined;
      let trainedFeatures = 0;
      if (mfRow !== undefined || features.length > 0) {
        mf = new Float32Array(this.#options.dim);
        if (mfRow !== undefined) mf.set(mfRow.vector.subarray(0, this.#options.dim));
        else if (this.#options.initStd > 0)
          initialVector(mf, this.#options.seed, 'mf:user', userId, this.#options.initStd);
        if (features.length > 0) trainedFeatures = await this.#addFeatures(mf, features);
      }
      return {
        mf,
        mfCount: mfRow?.count ?? 0,
        trainedFeatures,
        ncf:
          gmf !== undefined && mlp !== undefined
            ? { gmf: gmf.vector, mlp: mlp.vector, count: gmf.count }
            : undefined,
        history: state.history,
        degraded: false,
      };
    } catch (error) {
      if (error instanceof TypeError || error instanceof RangeError) throw error;
      return { mf: undefined, mfCount: 0, trainedFeatures: 0, ncf: undefined, history: [], degraded: true };
    }
  }

  /** Adds the mean of the feature rows to `out`; returns the share of them that were learnt. */
  async #addFeatures(
    out: Float32Array,
    features: readonly { key: string; weight: number }[],
  ): Promise<number> {
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
    let trained = 0;
    for (const f of features) {
      const row = this.#features.get(f.key)?.row?.vector;
      if (row !== undefined) trained++;
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
    return trained / features.length;
  }
}
