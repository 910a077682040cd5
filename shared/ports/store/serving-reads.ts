import type { CatalogRecord } from './catalog.ts';
import type { Row, RowTable } from './rows.ts';

/** What serving reads per request (and the trainer per batch): users, popularity, transitions. */

/** An item's transition list as stored: its degree and its neighbours, strongest first. */
export interface TransitionList {
  readonly degree: number;
  readonly neighbors: readonly { readonly itemId: string; readonly weight: number }[];
}

/** A user's stored state as one read returns it (ModelStore.getUserState). */
export interface UserSnapshot {
  readonly rows: readonly (Row | undefined)[];
  readonly history: readonly string[];
  readonly record: CatalogRecord | undefined;
}

export interface ServingReads {
  /**
   * What a request needs of one user in one read: the user's rows of `tables` (in that order,
   * `undefined` when missing), recent history (oldest first) and catalog record. The same as
   * getRows per table, getHistories and getUsers, in one round trip and one command.
   */
  getUserState(userId: string, tables: readonly RowTable[]): Promise<UserSnapshot>;
  /** Recent items of users (oldest first), up to the store's history limit; [] for unknown users. */
  getHistories(userIds: readonly string[]): Promise<string[][]>;
  /** The `k` best items of a popularity segment with their (landmark-scaled) scores. */
  getPopular(segment: string, k: number): Promise<{ itemId: string; score: number }[]>;
  /** Transition lists of items (undefined: none stored), in the order of `itemIds`. */
  getTransitions(itemIds: readonly string[]): Promise<(TransitionList | undefined)[]>;
}
