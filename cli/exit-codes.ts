/** Exit codes of the `recsys` command (documented in docs/cli.md). */
export const EXIT = {
  OK: 0,
  /** The command ran and failed (bad data, a failed check, an internal error). */
  FAILURE: 1,
  /** Bad flags or arguments. */
  USAGE: 2,
  /** Kafka or Redis could not be reached. */
  UNAVAILABLE: 3,
  /** The configuration is invalid. */
  CONFIG: 4,
} as const;
