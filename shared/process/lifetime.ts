import type { Logger } from '../observability/index.ts';

/**
 * A long-running process's life: it runs until SIGTERM, SIGINT or `stop()` (a fatal error), then
 * `shutdown` runs the caller's stop sequence, bounded by a deadline after which the process exits
 * 1. A signal to the process group can arrive twice (directly and through the launcher in
 * bin/recsys.mjs): only a second signal more than 2 s after the first means "exit now" (130).
 */
export class ProcessLifetime {
  /** Resolves when the process should stop. */
  readonly stopped: Promise<void>;
  readonly #logger: Logger;
  readonly #message: string;
  #wake: () => void = () => undefined;
  #firstSignalAt = 0;
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    if (this.#firstSignalAt > 0) {
      if (Date.now() - this.#firstSignalAt < 2_000) return;
      this.#logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    this.#firstSignalAt = Date.now();
    this.#logger.info({ signal }, this.#message);
    this.#wake();
  };

  /** `message` is logged on the first signal (what stopping will do). */
  constructor(logger: Logger, message: string) {
    this.#logger = logger;
    this.#message = message;
    this.stopped = new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
    process.on('SIGTERM', this.#onSignal);
    process.on('SIGINT', this.#onSignal);
  }

  /** Stops without a signal (a fatal error). */
  stop(): void {
    this.#wake();
  }

  /** Waits for the stop, then runs `stop` within `timeoutMs` (else logs and exits 1). */
  async shutdown(timeoutMs: number, stop: () => Promise<void>): Promise<void> {
    await this.stopped;
    const deadline = setTimeout(() => {
      this.#logger.error({ timeoutMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, timeoutMs);
    deadline.unref();
    try {
      await stop();
    } finally {
      clearTimeout(deadline);
      process.off('SIGTERM', this.#onSignal);
      process.off('SIGINT', this.#onSignal);
    }
  }
}
