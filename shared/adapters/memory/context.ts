import type { ModelStoreLimits } from '../../ports/index.ts';
import type { MemoryModelState } from './model-state.ts';

/**
 * What every part of the memory model store shares: the state (possibly shared by several
 * handles), the limits, and whether anything changed since the last save.
 */
export class MemoryContext {
  readonly state: MemoryModelState;
  readonly limits: ModelStoreLimits;
  /** Something changed since the state was last saved to its file. */
  dirty = false;

  constructor(state: MemoryModelState, limits: ModelStoreLimits) {
    this.state = state;
    this.limits = limits;
  }

  /** Appends one entry to a change stream, dropping the oldest past the limit. */
  appendChanges(stream: string, ids: readonly string[]): void {
    let changes = this.state.streams.get(stream);
    if (changes === undefined) this.state.streams.set(stream, (changes = { entries: [], sequence: 0 }));
    changes.sequence++;
    changes.entries.push({ id: `${changes.sequence}-0`, items: [...ids] });
    const excess = changes.entries.length - this.limits.changeStreamLimit;
    if (excess > 0) changes.entries.splice(0, excess);
  }
}
