import type { RecsysConfig } from '../../shared/config/index.ts';
import type { ModelStore } from '../../shared/ports/index.ts';
import type { BatchEvent } from './decode.ts';
import type { ModelTrainer, PendingWrite, TrainStats } from './model-trainer.ts';
import { SessionLearner } from './session-learner.ts';

interface Deps {
  readonly config: RecsysConfig;
  readonly store: ModelStore;
}

/**
 * The session signal as a model of its own (`session` in trainer.models): its own consumer group,
 * so its writes (a pair weight per previous item of the session, both ways) never slow MF's
 * group down, and it lags alone when it cannot keep up. No rows: transition lists and the
 * sessions' lists of latest items (SessionLearner), committed with its offsets.
 */
export class SessionTrainer implements ModelTrainer {
  readonly name = 'session' as const;
  readonly #store: ModelStore;
  readonly #learner: SessionLearner;

  constructor({ config, store }: Deps) {
    this.#store = store;
    this.#learner = new SessionLearner(config.model.session, config.model.context);
  }

  async onAssign(): Promise<void> {
    this.#learner.clear();
  }

  async train(events: readonly BatchEvent[]): Promise<TrainStats> {
    await this.#learner.load(this.#store, events);
    this.#learner.observe(events);
    return { loss: Number.NaN, rejected: 0, ranks: [], newItems: 0 };
  }

  writes(): PendingWrite {
    const { transitions, history } = this.#learner.writes();
    return {
      writes: { ...(transitions === undefined ? {} : { transitions }), history },
      done: () => this.#learner.committed(),
    };
  }

  discard(): void {
    this.#learner.clear();
  }

  cacheRows(): number {
    return this.#learner.size;
  }
}
