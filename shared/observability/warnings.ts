/**
 * kafkajs 2.2 schedules timers with negative delays on Node >= 22, which prints a
 * TimeoutNegativeWarning (kafkajs issue #1751). It is harmless and would only confuse users, so
 * entry points filter exactly that warning; every other warning still prints.
 */
export function filterKnownWarnings(): void {
  const original = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  const patched = (warning: unknown, ...rest: unknown[]): void => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    const name = warning instanceof Error ? warning.name : type;
    if (name === 'TimeoutNegativeWarning') return;
    original(warning, ...rest);
  };
  process.emitWarning = patched as typeof process.emitWarning;
}
