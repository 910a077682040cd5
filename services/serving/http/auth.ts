import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { RecsysError } from '../../../shared/errors/index.ts';

/** What a route needs: no key, a read key (or a write key), or a write key. */
export type Access = 'open' | 'read' | 'write';

export interface Principal {
  /** Short, non-reversible id of the key (first bytes of its hash): a rate-limit bucket and a log field. */
  readonly keyId: string;
  readonly canWrite: boolean;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/**
 * API keys. Only SHA-256 digests of the configured keys are kept, and a presented key's digest is
 * compared with every configured one in constant time (all of them, always), so neither the
 * response time nor memory reveals a key. Keys come in `x-api-key` or `Authorization: Bearer`.
 */
export class ApiKeys {
  readonly #write: Buffer[];
  readonly #read: Buffer[];
  readonly #openWrites: boolean;

  /**
   * Closed by default: once any key is configured, writes need a write key (with read keys only,
   * no request may write) unless `openWrites` says otherwise; reads need a key when read keys
   * are configured (a write key reads too).
   */
  constructor(writeKeys: readonly string[], readKeys: readonly string[], openWrites = false) {
    this.#write = writeKeys.map(digest);
    this.#read = readKeys.map(digest);
    this.#openWrites = openWrites;
  }

  /** True when the route's access needs no key. */
  isOpen(access: Access): boolean {
    if (access === 'open') return true;
    if (access === 'read') return this.#read.length === 0;
    return this.#openWrites || (this.#write.length === 0 && this.#read.length === 0);
  }

  /** What each kind of route needs, for the start-up log. */
  describe(): { reads: string; writes: string } {
    return {
      reads: this.isOpen('read') ? 'open' : 'read or write key',
      writes: this.isOpen('write')
        ? 'open'
        : this.#write.length === 0
          ? 'closed (no write keys configured; set RECSYS_WRITE_API_KEYS, or RECSYS_OPEN_WRITES=true)'
          : 'write key',
    };
  }

  /** The principal of the request's key, or undefined without a (valid) key. */
  identify(request: FastifyRequest): Principal | undefined {
    const presented = presentedKey(request);
    if (presented === undefined) return undefined;
    if (this.#write.length === 0 && this.#read.length === 0) return undefined;
    const d = digest(presented);
    let write = false;
    let read = false;
    for (const k of this.#write) if (timingSafeEqual(k, d)) write = true;
    for (const k of this.#read) if (timingSafeEqual(k, d)) read = true;
    if (!write && !read) return undefined;
    return { keyId: d.subarray(0, 6).toString('hex'), canWrite: write };
  }

  /** Throws UNAUTHORIZED or FORBIDDEN unless the request may use a route of this access. */
  authorize(request: FastifyRequest, access: Access): void {
    if (this.isOpen(access)) return;
    const principal = this.identify(request);
    if (principal === undefined) {
      throw new RecsysError('UNAUTHORIZED', {
        message:
          presentedKey(request) === undefined
            ? 'This route needs an API key: send it in the x-api-key header.'
            : 'The API key is not valid.',
      });
    }
    if (access === 'write' && !principal.canWrite) {
      throw new RecsysError('FORBIDDEN', {
        message:
          this.#write.length > 0
            ? 'This key may read but not write; use a write key.'
            : 'Writes are closed: no write keys are configured (RECSYS_WRITE_API_KEYS), and RECSYS_OPEN_WRITES is not set.',
      });
    }
  }
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header.slice(0, 1024);
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && authorization.startsWith('Bearer ')) {
    return authorization.slice(7, 1031);
  }
  return undefined;
}
