import { mfConfigFrom, neumfConfigFrom, type RecsysConfig } from '../../shared/config/index.ts';
import { ContextEncoder } from '../../shared/model/context.ts';
import { DEFAULT_MF_CONFIG } from '../../shared/model/hybrid-mf.ts';
import { DEFAULT_NEUMF_CONFIG } from '../../shared/model/neumf/neumf.ts';
import { hasSignal } from '../../shared/model/registry.ts';
import { RecsysError } from '../../shared/errors/index.ts';
import type { Logger } from '../../shared/observability/index.ts';
import type { ModelStore } from '../../shared/ports/index.ts';
import { DEFAULT_ANN_PARAMS, type AnnParams } from './index/ann-index.ts';
import { AnnShare } from './index/ann-share.ts';
import { ItemIndexSync } from './index/item-index-sync.ts';
import { ItemIndex } from './index/item-index.ts';
import { ModelQuality } from './ranking/model-quality.ts';
import type { ServingMetrics } from './process/metrics.ts';
import { NeumfScorer } from './ranking/neumf-scorer.ts';
import { PopularCache } from './index/popular-cache.ts';
import { LoadGauge } from './process/load-gauge.ts';
import { Recommender } from './ranking/recommender.ts';
import { StoreGuard, type BreakerState } from './process/store-guard.ts';
import { TransitionIndex } from './index/transition-index.ts';
import { UserStateReader } from './ranking/user-state.ts';

export interface ServingEngineDeps {
  readonly config: RecsysConfig;
  /** The store requests read through (guarded: short timeouts, circuit breaker). */
  readonly store: ModelStore;
  /** The store the background refresh reads through (may be the same instance). */
  readonly syncStore?: ModelStore;
  readonly logger: Logger;
  readonly metrics: ServingMetrics;
  readonly annParams?: AnnParams;
  /** How busy the process is (default: this process's event-loop utilisation). */
  readonly load?: LoadGauge;
  readonly clock?: () => number;
}

/** Candidates NeuMF re-ranks per request. */
const RERANK = 100;
/** How often the models' live quality counters are read. */
const QUALITY_POLL_MS = 1_000;

/**
 * Everything a serving process holds in memory (item index, NeuMF side, popular lists) and the
 * loop that keeps it current. Requests only read it; a refresh never blocks a request.
 */
export class ServingEngine {
  readonly config: RecsysConfig;
  readonly index: ItemIndex;
  readonly neumf: NeumfScorer | undefined;
  readonly guard: StoreGuard;
  readonly popular: PopularCache;
  /** The session signal's lists (undefined when trainer.models has no `session`). */
  readonly transitions: TransitionIndex | undefined;
  readonly recommender: Recommender;
  readonly store: ModelStore;
  /** The models' live HR@10, which sets how much NeuMF re-ranks. */
  readonly quality = new ModelQuality();
  readonly #sync: ItemIndexSync;
  readonly #syncStore: ModelStore;
  readonly #deps: ServingEngineDeps;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Event-loop utilisation: requests put off computing neighbour lists while it is high. */
  readonly #load: LoadGauge;
  #lastFull = 0;
  #lastQuality = 0;
  #annBuildsCounted = 0;
  #refreshing: Promise<void> | undefined;
  /** The periodic full reload under way (it runs beside the incremental refreshes). */
  #reload: Promise<void> | undefined;
  #neumfReloading = false;
  /** True once the first refresh loaded the index, the NeuMF side and the models' quality. */
  #ready = false;
  #learnt = 0;
  readonly #readyWaiters = new Set<() => void>();

  constructor(deps: ServingEngineDeps) {
    const { config, store, logger, metrics } = deps;
    this.#deps = deps;
    this.config = config;
    this.store = store;
    this.#logger = logger.child({ component: 'serving-engine' });
    this.#load = deps.load ?? new LoadGauge();
    const syncStore = deps.syncStore ?? store;
    this.#syncStore = syncStore;
    const mf = { ...DEFAULT_MF_CONFIG, ...mfConfigFrom(config) };
    this.index = new ItemIndex({
      dim: mf.dim,
      seed: mf.seed,
      initStd: mf.initStd,
      annThreshold: config.serving.annThreshold,
      annParams: deps.annParams ?? { ...DEFAULT_ANN_PARAMS, threads: config.serving.annThreads },
      ...(config.serving.annShareDir === ''
        ? {}
        : { annShare: new AnnShare(config.serving.annShareDir, config.serving.annBuilder) }),
    });
    this.#sync = new ItemIndexSync(this.index, syncStore, this.#logger, deps.clock);
    metrics.probes.indexAgeSeconds = () => this.indexAgeSeconds();
    const useNeumf = hasSignal(config.trainer.models, 'rerank');
    this.neumf = useNeumf
      ? new NeumfScorer({ ...DEFAULT_NEUMF_CONFIG, ...neumfConfigFrom(config) }, syncStore, this.#logger)
      : undefined;
    const states: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };
    this.guard = new StoreGuard({
      timeoutMs: config.serving.storeTimeoutMs,
      onStateChange: (state) => {
        metrics.breaker.set(states[state]);
        this.#logger.warn({ state }, 'model store circuit breaker');
      },
      onCall: (operation, seconds, ok) =>
        metrics.storeSeconds.observe({ operation, outcome: ok ? 'ok' : 'failed' }, seconds),
      ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    });
    this.popular = new PopularCache({
      store,
      guard: this.guard,
      depth: config.serving.candidates,
      ttlMs: Math.max(1_000, config.serving.refreshMs * 4),
    });
    const session = config.model.session;
    const useSession = hasSignal(config.trainer.models, 'session');
    this.transitions = useSession ? new TransitionIndex(this.index, syncStore, this.#logger) : undefined;
    const contextEncoder = new ContextEncoder(config.model.context);
    this.recommender = new Recommender({
      index: this.index,
      neumf: this.neumf,
      popular: this.popular,
      users: new UserStateReader({
        store,
        guard: this.guard,
        dim: mf.dim,
        seed: mf.seed,
        initStd: mf.initStd,
        neumf: useNeumf,
        ...(deps.clock === undefined ? {} : { clock: deps.clock }),
        ...(config.model.mf.context
          ? { context: { encoder: contextEncoder, crosses: config.model.context.crosses } }
          : {}),
        ...(useSession ? { session: { encoder: contextEncoder, by: session.by } } : {}),
      }),
      encoder: contextEncoder,
      candidates: config.serving.candidates,
      rerank: RERANK,
      blendInteractions: config.serving.blendInteractions,
      resultTtlMs: config.serving.resultTtlMs,
      ...(this.transitions === undefined
        ? {}
        : {
            transitions: this.transitions,
            session: { recent: session.recent, recentDecay: session.recentDecay, weight: session.weight },
          }),
      neumfShare: () => this.quality.neumfShare(),
      learnt: () => this.#learnt,
      busy: () => this.#load.busy,
      ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    });
  }

  /** True once the index was loaded at least once. */
  get loaded(): boolean {
    return this.#sync.loaded;
  }

  /**
   * True once everything a ranking reads was loaded once: the item index, the session lists, the
   * NeuMF side (rows and tower, when NeuMF is configured) and the models' live quality (NeuMF's
   * share). Answers before
   * that would differ from the ones a moment later for the same stored state.
   */
  get ready(): boolean {
    return this.#ready;
  }

  /**
   * Resolves once ready; a request that arrives during the first load waits for it (at most
   * serving.readyWaitMs) rather than being answered from a half-loaded state. Throws NOT_READY
   * (503, retriable) when the wait runs out, e.g. while the store is unreachable at start.
   */
  async whenReady(): Promise<void> {
    if (this.#ready) return;
    let wake: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      wake = resolve;
      this.#readyWaiters.add(resolve);
      timer = setTimeout(resolve, this.config.serving.readyWaitMs);
    }).finally(() => {
      clearTimeout(timer);
      if (wake !== undefined) this.#readyWaiters.delete(wake);
    });
    if (!this.#ready) {
      throw new RecsysError('NOT_READY', {
        message: `Not ready: ${this.notReadyReasons().join('; ')}; retry shortly.`,
      });
    }
  }

  /** Why the service is not ready (empty: ready). */
  notReadyReasons(): string[] {
    const reasons: string[] = [];
    if (!this.#sync.loaded) reasons.push('the item index is not loaded yet');
    else if (!this.#ready)
      reasons.push("the session lists, the NeuMF side and the models' quality are not loaded yet");
    if (this.guard.state === 'open') reasons.push('the model store is unavailable (circuit open)');
    return reasons;
  }

  /** Loads everything, then follows the change streams every refreshMs. */
  start(): void {
    const tick = async () => {
      if (this.#stopped) return;
      this.#refreshing = this.refreshOnce().finally(() => (this.#refreshing = undefined));
      await this.#refreshing;
      if (!this.#stopped) this.#timer = setTimeout(() => void tick(), this.config.serving.refreshMs);
    };
    void tick();
  }

  /**
   * One step of the loop: the first load, else an incremental refresh; a periodic full reload,
   * when due, starts beside it and goes on in the background (paced, it takes minutes at a
   * million items: the incremental refreshes keep the index fresh meanwhile).
   */
  async refreshOnce(): Promise<void> {
    const { metrics } = this.#deps;
    const started = performance.now();
    try {
      const now = Date.now();
      if (!this.#sync.loaded) {
        await this.#sync.load();
        await this.transitions?.load();
        await this.neumf?.load();
        this.#lastFull = now;
      } else {
        if (now - this.#lastFull >= this.config.serving.fullReloadMs && this.#reload === undefined) {
          this.#lastFull = now;
          this.#reload = this.#fullReload().finally(() => (this.#reload = undefined));
        }
        await this.#sync.refresh();
        await this.transitions?.refresh();
        if (!this.#neumfReloading) await this.neumf?.refresh();
      }
      if (now - this.#lastQuality >= QUALITY_POLL_MS) {
        await this.quality.poll(this.#syncStore, now);
        await this.#pollLearnt();
        this.#lastQuality = now;
      }
      if (!this.#ready) this.#becomeReady();
      metrics.refreshSeconds.observe((performance.now() - started) / 1000);
    } catch (error) {
      if (error instanceof TypeError || error instanceof RangeError) throw error;
      metrics.refreshErrors.inc();
      this.#logger.warn({ err: error }, 'index refresh failed; serving what is loaded');
    }
    metrics.indexItems.set(this.index.size);
    metrics.annActive.set(this.index.annActive ? 1 : 0);
    metrics.annBuilds.inc(this.index.annBuilds - this.#annBuildsCounted);
    this.#annBuildsCounted = this.index.annBuilds;
    metrics.towerVersion.set(this.neumf?.ready === true ? this.neumf.denseVersion : 0);
    metrics.neumfShare.set(this.neumf?.ready === true ? this.quality.neumfShare() : 0);
  }

  /**
   * Events MF has learnt, from its stored offsets: the model version serving reports. It survives
   * restarts (an in-memory change count started again from 0) and never goes back.
   */
  async #pollLearnt(): Promise<void> {
    const offsets = await this.#syncStore.getOffsets(`${this.config.trainer.groupPrefix}-mf`);
    let sum = 0;
    for (const offset of offsets.values()) sum += offset;
    this.#learnt = Math.max(this.#learnt, sum);
  }

  #becomeReady(): void {
    this.#ready = true;
    for (const wake of this.#readyWaiters) wake();
    this.#readyWaiters.clear();
  }

  /** The periodic full reload: every row and record again, paced (ItemIndexSync.load). */
  async #fullReload(): Promise<void> {
    try {
      await this.#sync.load();
      if (this.#stopped) return;
      await this.transitions?.load();
      this.#neumfReloading = true;
      await this.neumf?.load();
    } catch (error) {
      if (error instanceof TypeError || error instanceof RangeError) throw error;
      this.#deps.metrics.refreshErrors.inc();
      this.#logger.warn({ err: error }, 'full reload failed; the next one is due in fullReloadMs');
    } finally {
      this.#neumfReloading = false;
    }
  }

  /**
   * Catches up now: an incremental refresh and a fresh read of the models' quality (after a
   * known write, e.g. the all-in-one process once its trainer has learned the demo history).
   */
  async syncNow(): Promise<void> {
    await this.#refreshing;
    this.#lastQuality = 0;
    await this.refreshOnce();
  }

  /** Seconds since the index last caught up (for the age gauge). */
  indexAgeSeconds(): number {
    return this.#sync.lastRefresh === 0 ? 0 : (Date.now() - this.#sync.lastRefresh) / 1000;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#refreshing;
    this.#sync.stop();
    await this.#reload;
    this.#load.close();
    this.index.close();
  }
}
