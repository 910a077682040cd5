/**
 * Change feeds: append-only streams of the item ids whose rows, transition lists or catalog
 * records changed, written in the same atomic step as the change. Serving follows them to keep
 * its in-memory indexes current.
 */

/** One entry of the item change stream. */
export interface ItemChanges {
  /** Opaque, increasing position; pass it back to read what follows. */
  readonly id: string;
  readonly items: readonly string[];
}

/** The change stream of the items whose transition lists changed (serving follows it). */
export const TRANSITIONS_STREAM = 'transitions';

export interface ChangeFeeds {
  /** Entries of a change stream after position `after` ('0' for the start), at most `count`. */
  readItemChanges(stream: string, after: string, count: number): Promise<ItemChanges[]>;
}
