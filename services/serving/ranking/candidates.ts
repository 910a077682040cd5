import { Stamps, grown } from '../../../shared/model/stamps.ts';

/**
 * The candidates of one request and their signals, in typed arrays reused by every request (the
 * serving process is single-threaded): a stamp per position says which items are candidates now,
 * so nothing is cleared between requests and nothing is allocated per candidate. Absent signals
 * are NaN.
 */
export class CandidateSet {
  size = 0;
  positions = new Int32Array(256);
  mf = new Float64Array(256);
  popular = new Float64Array(256);
  content = new Float64Array(256);
  session = new Float64Array(256);
  similar = new Float64Array(256);
  readonly #member = new Stamps();
  #slot = new Int32Array(0);

  /** Starts a request over a catalog of `items` positions. */
  reset(items: number): void {
    this.#member.next(items);
    if (items > this.#slot.length) this.#slot = grown(this.#slot, Math.max(1024, 2 * items));
    this.size = 0;
  }

  /** The candidate index of a position, adding it (no signals yet) when new. */
  at(position: number): number {
    if (this.#member.has(position)) return this.#slot[position] as number;
    const c = this.size++;
    if (c === this.positions.length) {
      const size = 2 * c;
      this.positions = grown(this.positions, size);
      this.mf = grown(this.mf, size);
      this.popular = grown(this.popular, size);
      this.content = grown(this.content, size);
      this.session = grown(this.session, size);
      this.similar = grown(this.similar, size);
    }
    this.#member.mark(position);
    this.#slot[position] = c;
    this.positions[c] = position;
    this.mf[c] = Number.NaN;
    this.popular[c] = Number.NaN;
    this.content[c] = Number.NaN;
    this.session[c] = Number.NaN;
    this.similar[c] = Number.NaN;
    return c;
  }
}
