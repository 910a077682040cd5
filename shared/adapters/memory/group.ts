/** One consumer in a MemoryGroup. */
export interface GroupMember {
  readonly id: number;
  assigned: number[];
  readonly paused: Set<number>;
  /** Positions asked for by seek(), applied before the next batch of the partition. */
  readonly seeks: Map<number, number>;
  stopped: boolean;
}

/**
 * Consumer-group bookkeeping for the embedded event log: members, a round-robin assignment of
 * partitions that is recomputed (a new generation) whenever a member joins or leaves, committed
 * offsets, and a per-partition lock so that a partition moving between members is never processed
 * by two of them at once.
 */
export class MemoryGroup {
  readonly committed: Map<number, number>;
  readonly #partitions: number;
  readonly #members: GroupMember[] = [];
  readonly #busy = new Map<number, GroupMember>();
  #nextId = 0;
  generation = 0;

  constructor(partitions: number, committed: Map<number, number>) {
    this.#partitions = partitions;
    this.committed = committed;
  }

  join(): GroupMember {
    const member: GroupMember = {
      id: this.#nextId++,
      assigned: [],
      paused: new Set(),
      seeks: new Map(),
      stopped: false,
    };
    this.#members.push(member);
    this.generation++;
    return member;
  }

  leave(member: GroupMember): void {
    const index = this.#members.indexOf(member);
    if (index >= 0) {
      this.#members.splice(index, 1);
      this.generation++;
    }
  }

  assignmentOf(member: GroupMember): number[] {
    const index = this.#members.indexOf(member);
    if (index < 0) return [];
    const out: number[] = [];
    for (let p = 0; p < this.#partitions; p++) if (p % this.#members.length === index) out.push(p);
    return out;
  }

  acquire(partition: number, member: GroupMember): boolean {
    const owner = this.#busy.get(partition);
    if (owner !== undefined && owner !== member) return false;
    this.#busy.set(partition, member);
    return true;
  }

  release(partition: number, member: GroupMember): void {
    if (this.#busy.get(partition) === member) this.#busy.delete(partition);
  }

  commit(partition: number, nextOffset: number): void {
    this.committed.set(partition, nextOffset);
  }
}
