/**
 * kafkajs 2.2 schedules timers with negative delays on Node >= 22, which prints a
 * TimeoutNegativeWarning (kafkajs issue #1751). It is harmless and would only confuse users, so
 * entry points replace Node's default warning printer with one that skips exactly that warning;
 * every other warning still prints, in Node's format.
 */
export function filterKnownWarnings(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning') return;
    process.stderr.write(`(node:${process.pid}) ${warning.name}: ${warning.message}\n`);
  });
}
