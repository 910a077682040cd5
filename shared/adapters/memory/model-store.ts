import { DEFAULT_STORE_LIMITS, type ModelStoreLimits } from '../../ports/index.ts';
import { ComposedModelStore } from '../composed-store.ts';
import { MemoryCatalog } from './catalog.ts';
import { MemoryChangeFeeds } from './change-feeds.ts';
import { MemoryContext } from './context.ts';
import { createMemoryModelState, type MemoryModelState } from './model-state.ts';
import { saveModelState } from './model-state-file.ts';
import { MemoryRows } from './rows.ts';
import { MemoryServingReads } from './serving-reads.ts';
import { MemorySnapshots } from './snapshots.ts';

export interface MemoryModelStoreOptions {
  /** Shared state; a fresh one when omitted. */
  readonly state?: MemoryModelState;
  /** When set, close() (and persist()) write the state here. */
  readonly file?: string;
  /**
   * With a file: also save every this many milliseconds when something changed (0: only on
   * close), so a crash loses at most that much work. The trainer replays the rest from the event
   * log, since the saved offsets are consistent with the saved rows.
   */
  readonly persistIntervalMs?: number;
  readonly limits?: ModelStoreLimits;
}

/**
 * The embedded model store: rows, offsets, counters, histories, popularity, the item registry,
 * the change streams and the catalog in memory, optionally persisted to a file. One part per port
 * (rows.ts, catalog.ts, change-feeds.ts, serving-reads.ts, snapshots.ts) on one state. Every
 * operation completes synchronously inside its promise, so each is atomic with respect to the
 * others, as the Redis store's Lua scripts are.
 */
export class MemoryModelStore extends ComposedModelStore {
  readonly kind = 'memory' as const;
  readonly state: MemoryModelState;
  readonly #ctx: MemoryContext;
  readonly #file: string | undefined;
  #closed = false;
  readonly #autosave: NodeJS.Timeout | undefined;

  constructor(options: MemoryModelStoreOptions = {}) {
    const state = options.state ?? createMemoryModelState();
    const ctx = new MemoryContext(state, options.limits ?? DEFAULT_STORE_LIMITS);
    const rows = new MemoryRows(ctx);
    const catalog = new MemoryCatalog(ctx);
    super({
      rows,
      catalog,
      feeds: new MemoryChangeFeeds(ctx),
      reads: new MemoryServingReads(ctx, rows, catalog),
      snapshots: new MemorySnapshots(ctx),
    });
    this.state = state;
    this.#ctx = ctx;
    this.#file = options.file;
    const every = options.persistIntervalMs ?? 0;
    if (this.#file !== undefined && every > 0) {
      this.#autosave = setInterval(() => {
        if (this.#ctx.dirty) this.persist();
      }, every);
      this.#autosave.unref();
    }
  }

  async ping(): Promise<boolean> {
    return !this.#closed;
  }

  /** Writes the state to the configured file now (no-op without a file). */
  persist(): void {
    if (this.#file === undefined) return;
    this.#ctx.dirty = false;
    saveModelState(this.state, this.#file);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#autosave);
    this.persist();
    this.#closed = true;
  }
}
