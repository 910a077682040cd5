import { ContentIndex } from '../../../shared/model/content-similarity.ts';
import { featuresOf, type Feature, type FeatureSource } from '../../../shared/model/features.ts';
import type { CatalogRecord } from '../../../shared/ports/index.ts';

const HIDDEN = 1;
const DELETED = 2;

/**
 * The item index's catalog side, by position: whether an item may be served (hidden, deleted),
 * its categories (and each category's items), and the content index over its features, whose
 * changes listeners follow (the content-neighbour lists).
 */
export class ItemCatalog {
  readonly content = new ContentIndex();
  /** Bumped on every change of an item's content features. */
  version = 0;
  readonly #listeners: ((position: number) => void)[] = [];
  #flags = new Uint8Array(1_024);
  readonly #categories: (readonly string[] | undefined)[] = [];
  /** Each distinct category list once: items share them (an array per item was heap to mark). */
  readonly #categoryLists = new Map<string, readonly string[]>();
  readonly #byCategory = new Map<string, Set<number>>();

  /** Makes room for positions below `capacity`. */
  reserve(capacity: number): void {
    if (capacity <= this.#flags.length) return;
    const flags = new Uint8Array(capacity);
    flags.set(this.#flags);
    this.#flags = flags;
  }

  /**
   * Applies an item's record (undefined: deleted) and returns its content features; undefined
   * when the record changes nothing (a full reload re-applies every record: skipping the
   * unchanged ones saves most of its work).
   */
  set(position: number, record: CatalogRecord | undefined): readonly Feature[] | undefined {
    if (record !== undefined && this.#same(position, record)) return undefined;
    for (const category of this.#categories[position] ?? []) this.#byCategory.get(category)?.delete(position);
    if (record === undefined) {
      this.#flags[position] = DELETED;
      this.#categories[position] = undefined;
      this.#setContent(position, []);
      return [];
    }
    const source = record as FeatureSource & { hidden?: boolean };
    this.#flags[position] = source.hidden === true ? HIDDEN : 0;
    const categories = (source.categories ?? []).map((c) => c.toLowerCase());
    this.#categories[position] = categories.length > 0 ? this.#shared(categories) : undefined;
    for (const category of categories) {
      let set = this.#byCategory.get(category);
      if (set === undefined) this.#byCategory.set(category, (set = new Set()));
      set.add(position);
    }
    const features = featuresOf(source);
    this.#setContent(position, features);
    return features;
  }

  /** Calls `listener` with the position of every item whose content features change from now on. */
  onContentChange(listener: (position: number) => void): void {
    this.#listeners.push(listener);
  }

  /** True when an item may be recommended: not hidden or deleted. */
  servable(position: number): boolean {
    return this.#flags[position] === 0;
  }

  hidden(position: number): boolean {
    return this.#flags[position] !== 0;
  }

  deleted(position: number): boolean {
    return this.#flags[position] === DELETED;
  }

  categories(position: number): readonly string[] {
    return this.#categories[position] ?? [];
  }

  /** Positions of the items of a category. */
  inCategory(category: string): ReadonlySet<number> {
    return this.#byCategory.get(category.toLowerCase()) ?? new Set();
  }

  /** Only a real change counts (version, listeners): the content-neighbour lists depend on it. */
  #setContent(position: number, features: readonly Feature[]): void {
    if (this.content.hasFeatures(position, features)) return;
    this.version++;
    this.content.setItem(position, features);
    for (const listener of this.#listeners) listener(position);
  }

  #same(position: number, record: CatalogRecord): boolean {
    const source = record as FeatureSource & { hidden?: boolean };
    if (this.#flags[position] !== (source.hidden === true ? HIDDEN : 0)) return false;
    const categories = source.categories ?? [];
    const known = this.#categories[position] ?? [];
    if (categories.length !== known.length) return false;
    for (let i = 0; i < categories.length; i++)
      if ((categories[i] as string).toLowerCase() !== known[i]) return false;
    return this.content.hasFeatures(position, featuresOf(source));
  }

  #shared(categories: string[]): readonly string[] {
    const key = categories.join('\u0000');
    const known = this.#categoryLists.get(key);
    if (known !== undefined) return known;
    this.#categoryLists.set(key, categories);
    return categories;
  }
}
