import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/**
 * How busy this process's event loop was lately: the share of the last interval it spent
 * running code rather than waiting (Node's event-loop utilisation), sampled every `intervalMs`.
 * The request path reads `busy` to put off optional work (computing a missing neighbour list)
 * when the process is saturated, and to do it at once when it is not.
 */
export class LoadGauge {
  readonly #threshold: number;
  readonly #sample: (last?: EventLoopUtilization) => EventLoopUtilization;
  #last: EventLoopUtilization;
  #utilization = 0;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(
    options: {
      /** Busy at or above this utilisation (0 - 1). */
      readonly threshold?: number;
      readonly intervalMs?: number;
      /** Node's eventLoopUtilization (tests give their own). */
      readonly sample?: (last?: EventLoopUtilization) => EventLoopUtilization;
      /** false: no timer; call tick() (tests). */
      readonly timer?: boolean;
    } = {},
  ) {
    this.#threshold = options.threshold ?? 0.8;
    this.#sample = options.sample ?? ((last) => performance.eventLoopUtilization(last));
    this.#last = this.#sample();
    this.#timer =
      options.timer === false ? undefined : setInterval(() => this.tick(), options.intervalMs ?? 250).unref();
  }

  /** Takes a sample: the utilisation since the previous one. */
  tick(): void {
    const now = this.#sample();
    this.#utilization = this.#sample(this.#last).utilization;
    this.#last = now;
  }

  get utilization(): number {
    return this.#utilization;
  }

  get busy(): boolean {
    return this.#utilization >= this.#threshold;
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
