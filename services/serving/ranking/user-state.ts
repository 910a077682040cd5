import { MF_TABLES, NEUMF_TABLES } from '../../../shared/model/registry.ts';
import { addVectorMean } from '../../../shared/model/composite.ts';
import { contextKeys, sessionKey, type Context, type ContextEncoder } from '../../../shared/model/context.ts';
import { featuresOf, type FeatureSource } from '../../../shared/model/features.ts';
import { addContextVectors } from '../../../shared/model/hybrid-mf.ts';
import { initialVector } from '../../../shared/model/random.ts';
import type { RowStore, ServingReads, Row, RowTable } from '../../../shared/ports/index.ts';
import type { StoreGuard } from '../process/store-guard.ts';

/** What a request knows about its user. */
export interface UserState {
  /**
   * MF query vector: the composite user vector (id row plus the mean of feature rows) plus the
   * rows of the request's context (hybrid-mf.ts), or undefined for a stranger.
   */
  readonly mf: Float32Array | undefined;
  /** Interactions MF learned from this user. */
  readonly mfCount: number;
  /**
   * Share (0-1) of the user's features whose rows the trainer has learnt (from other users with
   * the same features): how much the feature part of `mf` says about a user with no history.
   */
  readonly trainedFeatures: number;
  readonly neumf:
    { readonly gmf: Float32Array; readonly mlp: Float32Array; readonly count: number } | undefined;
  /** Recent items, oldest first. */
  readonly history: readonly string[];
  /**
   * The latest items of the request's session (the user's items on this device: sessionKey),
   * oldest first; the user's history when the session is the user's or has no items yet.
   */
  readonly session: readonly string[];
  /** True when the store could not be read: the user is treated as new. */
  readonly degraded: boolean;
}

export interface UserStateOptions {
  readonly store: RowStore & ServingReads;
  readonly guard: StoreGuard;
  readonly dim: number;
  readonly seed: number;
  readonly initStd: number;
  readonly neumf: boolean;
  /** How long user feature rows are cached. */
  readonly featureTtlMs?: number;
  /** MF's context features (undefined: MF is context-free) and the fields crossed with the user. */
  readonly context?: { readonly encoder: ContextEncoder; readonly crosses: readonly string[] };
  /** The fields that split a user's session (model.session.by) and their encoding. */
  readonly session?: { readonly encoder: ContextEncoder; readonly by: readonly string[] };
  /** How long shared context rows (`device=mobile`) are cached. */
  readonly contextTtlMs?: number;
  /** The clock of those cache lifetimes (serving's clock). */
  readonly clock?: () => number;
}

const MF_USER_TABLES: readonly RowTable[] = [MF_TABLES.user];
const NEUMF_USER_TABLES: readonly RowTable[] = [MF_TABLES.user, NEUMF_TABLES.gmfUser, NEUMF_TABLES.mlpUser];

/**
 * Reads a user's rows, history and record in one store call (getUserState, bounded by the store
 * guard: one command instead of five, which was a tenth of a request's client-side work), then
 * the user's feature rows when the record has features (cached). A failed read degrades the
 * request to the new-user path; it never fails it.
 */
export class UserStateReader {
  readonly #options: UserStateOptions;
  /** Rows shared by many users (feature and context rows), cached briefly. */
  readonly #features: SharedRowCache;

  constructor(options: UserStateOptions) {
    this.#options = options;
    this.#features = new SharedRowCache(options.store, options.guard, options.clock ?? Date.now);
  }

  /**
   * The user's state for a request in `context` at `now`. The user x context rows are read with
   * the user's own rows (in parallel: two commands, one round trip's wait); shared context rows
   * come from a short-lived cache.
   */
  async read(userId: string, context?: Context, now: number = Date.now()): Promise<UserState> {
    const { store, guard, neumf } = this.#options;
    const keys =
      this.#options.context === undefined
        ? undefined
        : contextKeys(this.#options.context.encoder, context, now, userId, this.#options.context.crosses);
    const session =
      this.#options.session === undefined
        ? userId
        : sessionKey(this.#options.session.encoder, context, now, userId, this.#options.session.by);
    try {
      const [state, crossRows, sharedRows, sessionItems] = await Promise.all([
        guard.call('getUserState', () =>
          store.getUserState(userId, neumf ? NEUMF_USER_TABLES : MF_USER_TABLES),
        ),
        keys === undefined || keys.crosses.length === 0
          ? undefined
          : guard.call('getRows', () => store.getRows(MF_TABLES.userContext, keys.crosses)),
        keys === undefined ? undefined : this.#sharedContextRows(keys.shared),
        session === userId
          ? undefined
          : guard.call('getHistories', async () => (await store.getHistories([session]))[0] ?? []),
      ]);
      const [mfRow, gmf, mlp] = state.rows;
      const record = state.record as FeatureSource | undefined;
      const features = record === undefined ? [] : featuresOf(record);
      let mf: Float32Array | undefined;
      let trainedFeatures = 0;
      if (mfRow !== undefined || features.length > 0) {
        mf = new Float32Array(this.#options.dim);
        if (mfRow !== undefined) mf.set(mfRow.vector.subarray(0, this.#options.dim));
        else if (this.#options.initStd > 0)
          initialVector(mf, this.#options.seed, MF_TABLES.user, userId, this.#options.initStd);
        if (features.length > 0) trainedFeatures = await this.#addFeatures(mf, features);
        // Context rows start at zero in the trainer: a missing one adds nothing (context-free).
        addContextVectors(
          mf,
          (sharedRows ?? []).map((row) => row?.vector.subarray(0, this.#options.dim)),
          (crossRows ?? []).map((row) => row?.vector.subarray(0, this.#options.dim)),
        );
      }
      return {
        mf,
        mfCount: mfRow?.count ?? 0,
        trainedFeatures,
        neumf:
          gmf !== undefined && mlp !== undefined
            ? { gmf: gmf.vector, mlp: mlp.vector, count: gmf.count }
            : undefined,
        history: state.history,
        session: sessionItems === undefined || sessionItems.length === 0 ? state.history : sessionItems,
        degraded: false,
      };
    } catch (error) {
      if (error instanceof TypeError || error instanceof RangeError) throw error;
      return {
        mf: undefined,
        mfCount: 0,
        trainedFeatures: 0,
        neumf: undefined,
        history: [],
        session: [],
        degraded: true,
      };
    }
  }

  /** Shared context rows (`device=mobile`), cached for contextTtlMs. */
  #sharedContextRows(keys: readonly string[]): Promise<(Row | undefined)[]> {
    return this.#features.rows(MF_TABLES.context, keys, this.#options.contextTtlMs ?? 5_000);
  }

  /** Adds the mean of the feature rows to `out`; returns the share of them that were learnt. */
  async #addFeatures(
    out: Float32Array,
    features: readonly { key: string; weight: number }[],
  ): Promise<number> {
    const rows = await this.#features.rows(
      MF_TABLES.userFeature,
      features.map((f) => f.key),
      this.#options.featureTtlMs ?? 60_000,
    );
    let trained = 0;
    const vectors = features.map((f, k) => {
      const row = rows[k]?.vector;
      if (row !== undefined) trained++;
      return (
        row ??
        initialVector(
          new Float32Array(out.length),
          this.#options.seed,
          MF_TABLES.userFeature,
          f.key,
          this.#options.initStd,
        )
      );
    });
    addVectorMean(
      out,
      vectors,
      features.map((f) => f.weight),
    );
    return trained / features.length;
  }
}

/** Rows of shared tables by `table\0id`, each kept for the ttl its reader asks (bounded). */
class SharedRowCache {
  readonly #store: RowStore & ServingReads;
  readonly #guard: StoreGuard;
  readonly #clock: () => number;
  readonly #entries = new Map<string, { row: Row | undefined; at: number }>();

  constructor(store: RowStore & ServingReads, guard: StoreGuard, clock: () => number) {
    this.#store = store;
    this.#guard = guard;
    this.#clock = clock;
  }

  async rows(table: RowTable, ids: readonly string[], ttlMs: number): Promise<(Row | undefined)[]> {
    const now = this.#clock();
    const stale = ids.filter((id) => {
      const cached = this.#entries.get(`${table}\0${id}`);
      return cached === undefined || now - cached.at > ttlMs;
    });
    if (stale.length > 0) {
      const rows = await this.#guard.call('getRows', () => this.#store.getRows(table, stale));
      if (this.#entries.size > 100_000) this.#entries.clear();
      stale.forEach((id, k) => this.#entries.set(`${table}\0${id}`, { row: rows[k], at: now }));
    }
    return ids.map((id) => this.#entries.get(`${table}\0${id}`)?.row);
  }
}
