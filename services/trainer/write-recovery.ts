import { existsSync } from 'node:fs';
import type { Logger } from '../../shared/observability/index.ts';
import type { CommitBatch, RowStore } from '../../shared/ports/index.ts';

/** What the group commit does when a write fails or is fenced, and its fault-injection hook. */

/**
 * Whether a write whose answer failed (e.g. a command timeout) was applied all the same: the
 * commit is atomic, so it landed exactly when every partition's stored offset is the write's
 * last next offset. The read goes behind the write on the same connection, so it sees it. A
 * timed-out write that landed was retried, fenced as already written, and its events were
 * never counted as applied.
 */
export async function writeLanded(store: RowStore, scope: string, write: CommitBatch): Promise<boolean> {
  try {
    const stored = await store.getOffsets(scope);
    const last = new Map<number, number>();
    for (const advance of write.offsets ?? []) last.set(advance.partition, advance.nextOffset);
    return last.size > 0 && [...last].every(([partition, next]) => stored.get(partition) === next);
  } catch {
    return false;
  }
}

/**
 * Where each partition continues after abandoned batches: the stored offset where one is known,
 * else the earliest offset an abandoned batch (`from`) started at.
 */
export function resumeOffsets(
  from: readonly { partition: number; offset: number }[],
  stored: ReadonlyMap<number, number>,
): Map<number, number> {
  const starts = new Map<number, number>();
  for (const { partition, offset } of from)
    starts.set(partition, Math.min(starts.get(partition) ?? offset, offset));
  for (const [partition, offset] of stored) starts.set(partition, offset);
  return starts;
}

/** Waits while the fault-injection file `trainer.holdWritesFile` exists (see its docs; '' none). */
export async function holdWhileExists(file: string, log: Logger): Promise<void> {
  if (file === '' || !existsSync(file)) return;
  log.warn({ file }, 'writes held: trainer.holdWritesFile exists');
  while (existsSync(file)) await new Promise((resolve) => setTimeout(resolve, 20));
}
