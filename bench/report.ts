/** One benchmark figure with its target. */
export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The target, or undefined when the figure is reported without one. */
  readonly target?: { readonly op: '>=' | '<='; readonly value: number };
  readonly note?: string;
}

export function passed(result: BenchResult): boolean | undefined {
  if (result.target === undefined) return undefined;
  return result.target.op === '>='
    ? result.value >= result.target.value
    : result.value <= result.target.value;
}

/** Lines like `MF updates/s (zipf)  1,234,567 /s  target >= 1,000,000  PASS`. */
export function formatResults(results: readonly BenchResult[]): string {
  const fmt = (v: number) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(3));
  const rows = results.map((r) => {
    const verdict = passed(r);
    return [
      r.name,
      `${fmt(r.value)} ${r.unit}`,
      r.target === undefined ? 'no target' : `target ${r.target.op} ${fmt(r.target.value)}`,
      verdict === undefined ? '' : verdict ? 'PASS' : 'FAIL',
      r.note ?? '',
    ];
  });
  const widths = rows.reduce<number[]>((w, row) => row.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Machine description for docs/benchmarks.md. */
export async function machine(): Promise<string> {
  const os = await import('node:os');
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}, ${os.platform()} ${os.release()}`;
}
