/**
 * The models recsys trains, in one place: their names, the row tables each writes, which of those
 * hold per-user or per-item rows that may be evicted, the change stream serving follows, and what
 * serving does with each (its signal and the `source` it places items under). Everything that
 * lists models (configuration, command-line flags, quality counters, snapshots, the trainer's
 * factory, serving's signals, the API's `source` values and the metrics' labels) reads it; adding
 * a model starts here (docs/architecture.md, "Adding a model").
 */
export const MODEL_NAMES = ['mf', 'neumf', 'session'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** Hybrid MF's row tables. */
export const MF_TABLES = {
  user: 'mf:user',
  item: 'mf:item',
  userFeature: 'mf:user-feature',
  itemFeature: 'mf:item-feature',
  context: 'mf:context',
  userContext: 'mf:user-context',
} as const;

/** NeuMF's row tables (`ncf`: Neural Collaborative Filtering, the paper's name). */
export const NEUMF_TABLES = {
  gmfUser: 'ncf:gmf:user',
  gmfItem: 'ncf:gmf:item',
  mlpUser: 'ncf:mlp:user',
  mlpItem: 'ncf:mlp:item',
  context: 'ncf:context',
  dense: 'ncf:dense',
} as const;

export interface ModelDescriptor {
  readonly name: ModelName;
  /** Every row table it writes (what a snapshot exports). */
  readonly tables: readonly string[];
  /** Tables of per-user and per-item rows, deleted when not written for trainer.evictAfterMs. */
  readonly evicted: readonly string[];
  /** The change stream naming the items whose rows it changed. */
  readonly changes: string;
  /** It publishes dense weights (a tower) besides rows. */
  readonly dense: boolean;
  /**
   * What serving does with it (services/serving/ranking/): `personal` scores every candidate for
   * the user and context (the base of the blend); `rerank` re-scores the best candidates, weighed
   * by its live quality against the personal model's; `session` scores what follows the
   * session's latest items and joins the personal side of the blend.
   */
  readonly signal: 'personal' | 'rerank' | 'session';
  /** The `source` of the items its signal places in a served list (shared/schemas/api.ts). */
  readonly source: ModelName;
}

export const MODELS: Readonly<Record<ModelName, ModelDescriptor>> = {
  mf: {
    name: 'mf',
    tables: Object.values(MF_TABLES),
    evicted: [MF_TABLES.user, MF_TABLES.item, MF_TABLES.userContext],
    changes: 'mf',
    dense: false,
    signal: 'personal',
    source: 'mf',
  },
  neumf: {
    name: 'neumf',
    tables: Object.values(NEUMF_TABLES),
    evicted: [NEUMF_TABLES.gmfUser, NEUMF_TABLES.mlpUser, NEUMF_TABLES.gmfItem, NEUMF_TABLES.mlpItem],
    changes: 'neumf',
    dense: true,
    signal: 'rerank',
    source: 'neumf',
  },
  // The session signal (item-item transitions, item-transitions.ts): no rows, its own lists.
  session: {
    name: 'session',
    tables: [],
    evicted: [],
    changes: 'transitions',
    dense: false,
    signal: 'session',
    source: 'session',
  },
};

export function isModelName(value: string): value is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(value);
}

/** Whether any of `models` gives serving this signal (how serving decides what to load). */
export function hasSignal(models: readonly ModelName[], signal: ModelDescriptor['signal']): boolean {
  return models.some((name) => MODELS[name].signal === signal);
}
