import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { cacheDir } from '../../scripts/local-services.ts';

/**
 * The Compose Specification's JSON schema, as shipped in the compose-go module (the library
 * `docker compose` itself uses), fetched from the Go module proxy once and cached. Pinned by
 * version and by the SHA-256 of the schema file.
 */
const MODULE = 'github.com/compose-spec/compose-go/v2';
const VERSION = 'v2.16.2';
const SHA256 = 'f266dcbb043229405d7cedd5aec918f9102c2b3d5e3850808fdd8edd564a43ff';

export async function composeSpecSchema(): Promise<Record<string, unknown>> {
  const dir = join(cacheDir(), 'compose-spec');
  const file = join(dir, `compose-spec-${VERSION}.json`);
  if (!existsSync(file)) {
    const proxy = (process.env['GOPROXY'] ?? 'https://proxy.golang.org').split(/[,|]/)[0] as string;
    const base =
      proxy === 'direct' || proxy === 'off' ? 'https://proxy.golang.org' : proxy.replace(/\/$/, '');
    const url = `${base}/${MODULE}/@v/${VERSION}.zip`;
    const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    if (!response.ok) throw new Error(`cannot fetch the Compose schema from ${url}: HTTP ${response.status}`);
    const entries = unzipSync(new Uint8Array(await response.arrayBuffer()), {
      filter: (entry) => entry.name.endsWith('/schema/compose-spec.json'),
    });
    const content = Object.values(entries)[0];
    if (content === undefined) throw new Error(`${url} holds no schema/compose-spec.json`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${file}.tmp`, content);
    renameSync(`${file}.tmp`, file);
  }
  const bytes = readFileSync(file);
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== SHA256)
    throw new Error(`${file} has SHA-256 ${digest}, expected ${SHA256}; delete it to fetch again`);
  return JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
}
