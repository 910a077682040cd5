import { FORBIDDEN_KEYS } from './limits.ts';

/** In a `u` regex a surrogate pair is one code point: only unpaired halves are category Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

/** What a structural scan of an input found wrong, before schema validation. */
export interface InputDefect {
  readonly path: string;
  readonly kind: 'forbidden-key' | 'non-finite' | 'lone-surrogate';
}

/**
 * Walks a value iteratively (deep nesting cannot overflow the stack) and reports the first own key
 * `__proto__`, `constructor` or `prototype` (merging such keys elsewhere is how prototype pollution
 * happens), the first NaN/Infinity (`1e400` in JSON parses to Infinity) or the first string or key
 * with a lone surrogate (`"\ud800"` in JSON is not Unicode text: as an id it would be stored as
 * U+FFFD by every UTF-8 encoder, so distinct bad ids would collapse into one).
 */
export function findInputDefect(value: unknown, maxNodes = 100_000): InputDefect | undefined {
  const stack: { node: unknown; path: string }[] = [{ node: value, path: '' }];
  let visited = 0;
  while (stack.length > 0) {
    const { node, path } = stack.pop() as { node: unknown; path: string };
    if (typeof node === 'number') {
      if (!Number.isFinite(node)) return { path: path || '/', kind: 'non-finite' };
      continue;
    }
    if (typeof node === 'string') {
      if (LONE_SURROGATE.test(node)) return { path: path || '/', kind: 'lone-surrogate' };
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    if (++visited > maxNodes) return undefined;
    for (const key of Object.keys(node)) {
      const child = `${path}/${key}`;
      if (FORBIDDEN_KEYS.has(key)) return { path: child, kind: 'forbidden-key' };
      if (LONE_SURROGATE.test(key)) return { path: child, kind: 'lone-surrogate' };
      stack.push({ node: (node as Record<string, unknown>)[key], path: child });
    }
  }
  return undefined;
}

/** The path of the first forbidden key in a value, if any. */
export function findForbiddenKey(value: unknown): string | undefined {
  const defect = findInputDefect(value);
  return defect?.kind === 'forbidden-key' ? defect.path : undefined;
}
