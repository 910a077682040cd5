import { describe, expect, it } from 'vitest';
import { StoreGuard } from '../../../services/serving/process/store-guard.ts';
import { isRecsysError } from '../../../shared/errors/index.ts';

const never = () => new Promise<never>(() => undefined);
const fail = () => Promise.reject(new Error('connection lost'));

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return isRecsysError(error) ? error.code : 'not-catalogued';
  }
}

describe('StoreGuard', () => {
  it('answers STORE_UNAVAILABLE when a call exceeds the timeout', async () => {
    const guard = new StoreGuard({ timeoutMs: 20 });
    const started = performance.now();
    expect(await code(guard.call('getRows', never))).toBe('STORE_UNAVAILABLE');
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('opens after consecutive failures, then fails at once without calling the store', async () => {
    const now = 0;
    const states: string[] = [];
    const guard = new StoreGuard({
      timeoutMs: 50,
      failureThreshold: 3,
      openMs: 1_000,
      clock: () => now,
      onStateChange: (s) => states.push(s),
    });
    for (let i = 0; i < 3; i++) expect(await code(guard.call('x', fail))).toBe('STORE_UNAVAILABLE');
    expect(guard.state).toBe('open');
    let called = false;
    expect(
      await code(
        guard.call('x', async () => {
          called = true;
          return 1;
        }),
      ),
    ).toBe('STORE_UNAVAILABLE');
    expect(called).toBe(false);
    expect(states).toEqual(['open']);
  });

  it('lets one probe through after openMs: success closes, failure re-opens', async () => {
    let now = 0;
    const guard = new StoreGuard({ timeoutMs: 50, failureThreshold: 1, openMs: 1_000, clock: () => now });
    await code(guard.call('x', fail));
    now = 1_000;
    expect(guard.state).toBe('half-open');
    await code(guard.call('x', fail));
    expect(guard.state).toBe('open');
    now = 2_000;
    expect(await guard.call('x', async () => 42)).toBe(42);
    expect(guard.state).toBe('closed');
  });

  it('resets the failure count on success and passes programming errors through', async () => {
    const guard = new StoreGuard({ timeoutMs: 50, failureThreshold: 2 });
    await code(guard.call('x', fail));
    await guard.call('x', async () => 1);
    await code(guard.call('x', fail));
    expect(guard.state).toBe('closed');
    await expect(guard.call('x', () => Promise.reject(new TypeError('bug')))).rejects.toBeInstanceOf(
      TypeError,
    );
  });
});
