/** Background work runs in slices of this many milliseconds... */
const SLICE_MS = 2;
/** ...each followed by a pause this many times as long: at most a fifth of the process's time. */
const PAUSE_FACTOR = 4;

/**
 * One unit of background work: does a little (e.g. computes one neighbour list) and says whether
 * more is waiting.
 */
export type BackgroundJob = () => boolean;

/**
 * Runs optional work between requests at a bounded share of the process's time: short slices,
 * each followed by a pause four times as long, so at most a fifth of the time goes to it however
 * many jobs share it (one pacer per process: two caches that paced themselves took two fifths,
 * measured at 500,000 items). Jobs take turns within a slice; a job leaves once it says nothing
 * is waiting and comes back when it is added again.
 */
export interface PacerClock {
  /** Milliseconds, monotonic (default performance.now). */
  readonly now: () => number;
  /** Runs `fn` after `delayMs` (default an unref'd setTimeout; 0: setImmediate). */
  readonly schedule: (fn: () => void, delayMs: number) => void;
}

const REAL_CLOCK: PacerClock = {
  now: () => performance.now(),
  schedule: (fn, delayMs) => {
    if (delayMs === 0) setImmediate(fn);
    else setTimeout(fn, delayMs).unref();
  },
};

export class BackgroundPacer {
  readonly #jobs = new Set<BackgroundJob>();
  readonly #clock: PacerClock;
  #running = false;

  constructor(clock: PacerClock = REAL_CLOCK) {
    this.#clock = clock;
  }

  /** Schedules a job (again); a job already scheduled is not added twice. */
  add(job: BackgroundJob): void {
    this.#jobs.add(job);
    if (this.#running) return;
    this.#running = true;
    this.#clock.schedule(() => this.#slice(), 0);
  }

  /** Jobs waiting for a slice (for tests and metrics). */
  get pending(): number {
    return this.#jobs.size;
  }

  #slice(): void {
    const { now, schedule } = this.#clock;
    const started = now();
    let elapsed = 0;
    while (this.#jobs.size > 0 && elapsed < SLICE_MS) {
      for (const job of this.#jobs) {
        if (!job()) this.#jobs.delete(job);
        elapsed = now() - started;
        if (elapsed >= SLICE_MS) break;
      }
    }
    if (this.#jobs.size === 0) {
      this.#running = false;
      return;
    }
    schedule(() => this.#slice(), Math.max(1, PAUSE_FACTOR * elapsed));
  }
}
