import type { CommitBatch, ModelStoreLimits, RowTable } from '../../ports/index.ts';
import { TRANSITIONS_STREAM } from '../../ports/index.ts';
import { transitionSums } from '../transitions.ts';
import { encodeDelta, encodeOptimistic, encodeRow } from './row-codec.ts';

const EMPTY = new Float32Array(0);

/**
 * Length-prefixed byte strings in one buffer (u32 little-endian length, then the bytes), as
 * commit.lua reads them. Thousands of rows, counters or list items travel as one argument: the
 * client builds one buffer instead of thousands of protocol arguments, and Redis parses one.
 */
export class Frames {
  readonly #parts: (string | Buffer)[] = [];
  readonly #lengths: number[] = [];
  #size = 0;

  get count(): number {
    return this.#parts.length;
  }

  add(part: string | Buffer): this {
    const length = typeof part === 'string' ? Buffer.byteLength(part) : part.length;
    this.#parts.push(part);
    this.#lengths.push(length);
    this.#size += 4 + length;
    return this;
  }

  toBuffer(): Buffer {
    const out = Buffer.allocUnsafe(this.#size);
    let offset = 0;
    this.#parts.forEach((part, i) => {
      const length = this.#lengths[i] as number;
      out.writeUInt32LE(length, offset);
      if (typeof part === 'string') out.write(part, offset + 4, length, 'utf8');
      else part.copy(out, offset + 4);
      offset += 4 + length;
    });
    return out;
  }
}

/** How the store names its keys. */
export interface KeyNames {
  rowKey(table: RowTable, id: string): string;
  key(...parts: string[]): string;
}

/**
 * The arguments of one commit.lua call (see the script's header for the layout), or undefined
 * when the batch writes nothing. `asDelta`: indices of shared rows to send as deltas instead of
 * optimistic final values ('all': every one).
 */
export function commitArgs(
  batch: CommitBatch,
  asDelta: ReadonlySet<number> | 'all',
  names: KeyNames,
  limits: ModelStoreLimits,
): (string | Buffer | number)[] | undefined {
  const keys: string[] = [];
  const offsetArgs: string[] = [];
  for (const advance of batch.offsets ?? []) {
    keys.push(names.key('offsets', advance.scope));
    offsetArgs.push(String(advance.partition), String(advance.fromOffset), String(advance.nextOffset));
  }
  const puts = new Frames();
  for (const group of batch.puts ?? []) {
    for (const { id, value } of group.rows) {
      puts.add(names.rowKey(group.table, id));
      puts.add(encodeRow(value.vector, value.state ?? EMPTY, value.bias, value.count, 0, value.updatedAt));
    }
  }
  const deltas = new Frames();
  let nDeltas = 0;
  for (const group of batch.deltas ?? []) {
    for (const { id, value } of group.rows) {
      deltas.add(names.rowKey(group.table, id));
      const full = value.full;
      const optimistic =
        full !== undefined &&
        value.expectedVersion !== undefined &&
        asDelta !== 'all' &&
        !asDelta.has(nDeltas);
      deltas.add(
        optimistic
          ? encodeOptimistic(
              full.vector,
              full.state ?? EMPTY,
              full.bias,
              full.count,
              value.updatedAt,
              value.expectedVersion as number,
            )
          : encodeDelta(
              value.vector,
              value.state ?? EMPTY,
              value.bias,
              value.count,
              value.updatedAt,
              value.init,
            ),
      );
      nDeltas++;
    }
  }
  // Counters, histories and popularity grouped by key: (key, n, n entries) each.
  const counters = new Frames();
  const byCounter = groupBy(batch.counters ?? [], (c) => c.name);
  for (const [name, list] of byCounter) {
    counters.add(names.key('counter', name)).add(String(list.length));
    for (const c of list) counters.add(c.field).add(String(c.by));
  }
  const histories = new Frames();
  let nHistories = 0;
  for (const { userId, items } of batch.history ?? []) {
    if (items.length === 0) continue;
    histories.add(names.key('hist', userId)).add(String(items.length));
    for (const item of items) histories.add(item);
    nHistories++;
  }
  const popularity = new Frames();
  const bySegment = groupBy(batch.popularity ?? [], (p) => p.segment);
  for (const [segment, list] of bySegment) {
    popularity.add(names.key('popularity', segment)).add(String(list.length));
    for (const p of list) popularity.add(p.itemId).add(String(p.by));
  }
  const newItems = new Frames();
  for (const id of batch.newItems?.ids ?? []) newItems.add(id);
  if (newItems.count > 0) {
    const registry = (batch.newItems as { registry: string }).registry;
    keys.push(names.key('registry', registry), names.key('registry', registry, 'set'));
  }
  const changed = batch.changedItems?.ids ?? [];
  if (changed.length > 0) keys.push(names.key('changes', (batch.changedItems as { stream: string }).stream));
  // Transitions: (sorted set key, n, then n times member, increment) per item, the degree a member.
  const transitions = new Frames();
  const sums = transitionSums(batch.transitions?.increments ?? []);
  for (const [itemId, row] of sums) {
    transitions.add(names.key('transitions', itemId)).add(String(row.size));
    for (const [member, by] of row) transitions.add(member).add(String(by));
  }
  if (sums.size > 0) keys.push(names.key('changes', TRANSITIONS_STREAM));
  const writes =
    puts.count +
    deltas.count +
    counters.count +
    histories.count +
    popularity.count +
    newItems.count +
    transitions.count;
  if (keys.length === 0 && writes === 0) return undefined;
  return [
    keys.length,
    ...keys,
    String(offsetArgs.length / 3),
    String(puts.count / 2),
    String(nDeltas),
    String(byCounter.size),
    String(nHistories),
    String(bySegment.size),
    String(newItems.count),
    String(changed.length > 0 ? 1 : 0),
    String(limits.historyLimit),
    String(limits.changeStreamLimit),
    String(sums.size),
    String(batch.transitions?.limit ?? 0),
    ...offsetArgs,
    puts.toBuffer(),
    deltas.toBuffer(),
    counters.toBuffer(),
    histories.toBuffer(),
    popularity.toBuffer(),
    newItems.toBuffer(),
    changed.join('\n'),
    transitions.toBuffer(),
    [...sums.keys()].join('\n'),
  ];
}

function groupBy<T>(values: readonly T[], key: (value: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const value of values) {
    const k = key(value);
    const list = out.get(k);
    if (list === undefined) out.set(k, [value]);
    else list.push(value);
  }
  return out;
}
