/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal (so piped output and CI
 * logs stay clean) and at most ten times a second.
 */
export interface Progress {
  update(phase: string, done: number, total: number): void;
  done(): void;
}

export function progressBar(stream: NodeJS.WriteStream & { isTTY?: boolean } = process.stderr): Progress {
  if (stream.isTTY !== true) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let shown = false;
  const started = Date.now();
  return {
    update(phase, done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const width = 30;
      const ratio = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(ratio * width);
      const elapsed = (now - started) / 1000;
      const eta = ratio > 0 ? (elapsed / ratio) * (1 - ratio) : 0;
      stream.write(
        `\r${phase.padEnd(18)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}% ${done}/${total} eta ${eta.toFixed(0)}s\x1b[K`,
      );
      shown = true;
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}
