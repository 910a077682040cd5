/**
 * Content features of items and users as (key, weight) pairs, the inputs of the hybrid model's
 * feature embeddings (LightFM-style) and of content similarity. Keys are namespaced so a tag and
 * a category with the same label stay different features:
 *   tag:<label>, cat:<label>, attr:<name>=<value> (categorical), num:<name> (numeric)
 *
 * A numeric attribute's weight is its value clamped to [-1, 1]: a feature row is scaled by its
 * weight, so an unscaled value (a year, a price) would swamp every other feature and the id row.
 * Scale numeric attributes to [-1, 1] yourself (rating / 5, a z-score clipped) or send values
 * like a year as categories (`decade: "1990s"`). docs/serving.md (routes, `PUT /v1/items`) says the same to users.
 */
export interface Feature {
  readonly key: string;
  readonly weight: number;
}

export interface FeatureSource {
  readonly tags?: readonly string[];
  readonly categories?: readonly string[];
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
}

export function featuresOf(source: FeatureSource): Feature[] {
  const out: Feature[] = [];
  for (const tag of source.tags ?? []) out.push({ key: `tag:${tag.toLowerCase()}`, weight: 1 });
  for (const category of source.categories ?? [])
    out.push({ key: `cat:${category.toLowerCase()}`, weight: 1 });
  for (const [name, value] of Object.entries(source.attributes ?? {})) {
    if (typeof value === 'number') {
      if (Number.isFinite(value) && value !== 0)
        out.push({ key: `num:${name}`, weight: Math.max(-1, Math.min(1, value)) });
    } else {
      out.push({ key: `attr:${name}=${String(value).toLowerCase()}`, weight: 1 });
    }
  }
  return out;
}
