/**
 * A per-user cap on events accepted per minute (fixed one-minute windows): one user's click flood
 * is cut off at the door instead of dragging their rows and the popularity counts. Bounded in
 * memory: windows that ended are dropped when the map grows.
 */
export class UserEventCap {
  readonly #perMinute: number;
  readonly #clock: () => number;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(perMinute: number, clock: () => number = Date.now) {
    this.#perMinute = perMinute;
    this.#clock = clock;
  }

  /** Counts one event of the user; false when the user is over the cap for this minute. */
  take(userId: string): boolean {
    const now = this.#clock();
    let window = this.#windows.get(userId);
    if (window === undefined || now - window.start >= 60_000) {
      if (this.#windows.size >= 100_000) this.#sweep(now);
      window = { start: now, count: 0 };
      this.#windows.set(userId, window);
    }
    if (window.count >= this.#perMinute) return false;
    window.count++;
    return true;
  }

  /** Seconds until the user's window ends. */
  retryAfterSeconds(userId: string): number {
    const window = this.#windows.get(userId);
    return window === undefined ? 0 : Math.max(1, Math.ceil((window.start + 60_000 - this.#clock()) / 1000));
  }

  #sweep(now: number): void {
    for (const [user, window] of this.#windows) if (now - window.start >= 60_000) this.#windows.delete(user);
    if (this.#windows.size >= 100_000) this.#windows.clear();
  }
}
