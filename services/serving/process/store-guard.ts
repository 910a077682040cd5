import { RecsysError, isRecsysError } from '../../../shared/errors/index.ts';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface StoreGuardOptions {
  /** Longest a request-path store call may take before it counts as failed. */
  readonly timeoutMs: number;
  /** Consecutive failures that open the breaker. */
  readonly failureThreshold?: number;
  /** How long the breaker stays open before one probe call is let through. */
  readonly openMs?: number;
  readonly clock?: () => number;
  readonly onStateChange?: (state: BreakerState) => void;
  /** Called after every call that reached the store, with its duration and outcome. */
  readonly onCall?: (what: string, seconds: number, ok: boolean) => void;
}

/**
 * Fail-fast access to the model store on the request path: every call is bounded by a timeout,
 * and after a few consecutive failures a circuit breaker answers STORE_UNAVAILABLE at once for
 * `openMs`, then lets a single probe through. So while Redis is stopped or slow, requests do not
 * queue behind it: they get their fallback (or a deliberate 503) in well under the timeout.
 */
export class StoreGuard {
  readonly #timeoutMs: number;
  readonly #onCall: StoreGuardOptions['onCall'];
  readonly #threshold: number;
  readonly #openMs: number;
  readonly #clock: () => number;
  readonly #onStateChange: (state: BreakerState) => void;
  #failures = 0;
  #openedAt = 0;
  #state: BreakerState = 'closed';
  #probing = false;

  constructor(options: StoreGuardOptions) {
    this.#onCall = options.onCall;
    this.#timeoutMs = options.timeoutMs;
    this.#threshold = options.failureThreshold ?? 3;
    this.#openMs = options.openMs ?? 1_000;
    this.#clock = options.clock ?? Date.now;
    this.#onStateChange = options.onStateChange ?? (() => undefined);
  }

  get state(): BreakerState {
    if (this.#state === 'open' && this.#clock() - this.#openedAt >= this.#openMs) return 'half-open';
    return this.#state;
  }

  /** True when calls are let through (closed, or a probe is due). */
  get available(): boolean {
    return this.state !== 'open';
  }

  /**
   * Runs a store call under the timeout and the breaker. Rejects with STORE_UNAVAILABLE when the
   * breaker is open, the call times out or the store fails; programming errors pass through.
   */
  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.#probing)) {
      throw new RecsysError('STORE_UNAVAILABLE', {
        message: `The model store is unavailable (circuit open); ${what} skipped.`,
      });
    }
    const probe = state === 'half-open';
    if (probe) this.#probing = true;
    let timer: NodeJS.Timeout | undefined;
    const started = performance.now();
    let ok = false;
    try {
      const result = await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              // One more turn of the event loop first: when the loop itself was busy (GC, a long
              // task), the answer may be waiting in the socket and is not the store's fault.
              setImmediate(() =>
                reject(
                  new RecsysError('STORE_UNAVAILABLE', {
                    message: `The model store did not answer ${what} within ${this.#timeoutMs} ms.`,
                  }),
                ),
              ),
            this.#timeoutMs,
          );
        }),
      ]);
      this.#succeeded();
      ok = true;
      return result;
    } catch (error) {
      if (!isRecsysError(error) || error.code !== 'STORE_UNAVAILABLE') {
        if (error instanceof TypeError || error instanceof RangeError) throw error;
      }
      this.#failed();
      throw isRecsysError(error)
        ? error
        : new RecsysError('STORE_UNAVAILABLE', { message: `The model store failed ${what}.`, cause: error });
    } finally {
      clearTimeout(timer);
      if (probe) this.#probing = false;
      this.#onCall?.(what, (performance.now() - started) / 1000, ok);
    }
  }

  #succeeded(): void {
    this.#failures = 0;
    if (this.#state !== 'closed') this.#set('closed');
  }

  #failed(): void {
    this.#failures++;
    if (this.#state !== 'closed' || this.#failures >= this.#threshold) {
      this.#openedAt = this.#clock();
      if (this.#state !== 'open') this.#set('open');
    }
  }

  #set(state: BreakerState): void {
    this.#state = state;
    this.#onStateChange(state);
  }
}
