/** How long a readiness check may take before it counts as failed. */
export const PROBE_TIMEOUT_MS = 500;

/**
 * A readiness check bounded in time: false when it fails or has not answered within `timeoutMs`.
 * A dependency that is down often does not fail at once (kafkajs retries its connection for
 * seconds): a probe must answer within the prober's own timeout all the same.
 */
export async function probe(check: () => Promise<boolean>, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check().catch(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
