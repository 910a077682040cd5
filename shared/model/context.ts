/**
 * Request and event context turned into categorical features: the NeuMF context embeddings and
 * the popularity segments use the same encoding, so what the trainer learned under a context is
 * what serving looks up under it.
 *
 * Built-in fields: `hour` (bucket of the hour of day: night 0-5, morning 6-11, afternoon 12-17,
 * evening 18-23), `dow` (weekday or weekend) and `device`. When the context carries `hour` (0-23)
 * or `dow` (0-6, Sunday = 0) they are used; otherwise they come from the event time (UTC).
 * Extra configured fields take the context value as is (lower-cased), `?` when missing.
 */
export type ContextValue = string | number | boolean;
export type Context = Readonly<Record<string, ContextValue>>;

export const HOUR_BUCKETS = ['night', 'morning', 'afternoon', 'evening'] as const;

export interface ContextEncoderConfig {
  /** Extra categorical context fields, e.g. ['locale', 'page']. */
  readonly fields: readonly string[];
}

export class ContextEncoder {
  /** Field names in encoding order: hour, dow, device, then the configured fields. */
  readonly fields: readonly string[];

  constructor(config: ContextEncoderConfig = { fields: [] }) {
    const extra = config.fields.filter((f) => !['hour', 'dow', 'device'].includes(f));
    this.fields = ['hour', 'dow', 'device', ...extra];
  }

  /** One `field=value` key per field, in `fields` order. */
  encode(context: Context | undefined, timeMs: number): string[] {
    return this.fields.map((field) => `${field}=${this.value(field, context, timeMs)}`);
  }

  /** The popularity segment of a context: device x hour bucket. */
  segment(context: Context | undefined, timeMs: number): string {
    return `device=${this.value('device', context, timeMs)}|hour=${this.value('hour', context, timeMs)}`;
  }

  value(field: string, context: Context | undefined, timeMs: number): string {
    const raw = context?.[field];
    switch (field) {
      case 'hour': {
        const hour =
          typeof raw === 'number' && raw >= 0 && raw < 24 ? Math.floor(raw) : new Date(timeMs).getUTCHours();
        return HOUR_BUCKETS[Math.floor(hour / 6)] as string;
      }
      case 'dow': {
        const day =
          typeof raw === 'number' && raw >= 0 && raw < 7 ? Math.floor(raw) : new Date(timeMs).getUTCDay();
        return day === 0 || day === 6 ? 'weekend' : 'weekday';
      }
      default:
        return raw === undefined || raw === '' ? '?' : String(raw).toLowerCase().slice(0, 64);
    }
  }
}

/** The factorization's context features of one event or request (HybridMF context rows). */
export interface ContextKeys {
  /** `field=value` for every field whose value is known. */
  readonly shared: string[];
  /** `<user>@field=value` for every cross field whose value is known. */
  readonly crosses: string[];
}

/**
 * Whose session an event or a request belongs to, as the key of its list of latest items: the
 * user, split by the `by` fields that have a value (`<user>` U+001F `device=mobile`; `<user>`
 * U+001F alone when none has). A phone's visit and a desktop's are two sessions: what the user
 * just did on the other device says little about this one. U+001F cannot occur in an id
 * (shared/schemas/limits.ts), so no session's list is a user's history list.
 */
export function sessionKey(
  encoder: ContextEncoder,
  context: Context | undefined,
  timeMs: number,
  userId: string,
  by: readonly string[],
): string {
  const parts: string[] = [];
  for (const field of by) {
    if (!encoder.fields.includes(field)) continue;
    const value = encoder.value(field, context, timeMs);
    if (value !== '?') parts.push(`${field}=${value}`);
  }
  return `${userId}\u001f${parts.join('|')}`;
}

/**
 * Context keys for the factorization: a field without a value (`?`) has no row, so what is not
 * known adds nothing to the query. `crosses`: the fields that also get a per-user row.
 */
export function contextKeys(
  encoder: ContextEncoder,
  context: Context | undefined,
  timeMs: number,
  userId: string,
  crosses: readonly string[],
): ContextKeys {
  const shared: string[] = [];
  const crossed: string[] = [];
  for (const field of encoder.fields) {
    const value = encoder.value(field, context, timeMs);
    if (value === '?') continue;
    const key = `${field}=${value}`;
    shared.push(key);
    if (crosses.includes(field)) crossed.push(`${userId}@${key}`);
  }
  return { shared, crosses: crossed };
}
