import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { isRecsysError } from '../../../shared/errors/index.ts';
import {
  nativeEnvironmentDefaults,
  restoreRemovedUtilFunctions,
  useBackend,
} from '../../../shared/model/tf-backend.ts';
import { createRequire } from 'node:module';

describe('TF.js backend selection', () => {
  it('auto falls back to WASM when the native module is absent', async () => {
    const name = await useBackend('auto', {
      native: () => Promise.reject(new Error("Cannot find module '@tensorflow/tfjs-node'")),
    });
    expect(name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('auto picks the native backend when its module loads and registers it', async () => {
    // A stand-in for @tensorflow/tfjs-node that registers a backend named "tensorflow" (the real
    // module's math is not what this test is about: only the selection logic).
    const native = async () => {
      if (tf.findBackend('tensorflow') === null) {
        const cpu = tf.findBackend('cpu') as tf.KernelBackend;
        tf.registerBackend('tensorflow', () => new (cpu.constructor as new () => tf.KernelBackend)(), 1);
      }
    };
    expect(await useBackend('auto', { native })).toBe('tensorflow');
    expect(tf.getBackend()).toBe('tensorflow');
    tf.removeBackend('tensorflow');
  });

  it('honours an explicit choice and fails clearly when it cannot be met', async () => {
    expect(await useBackend('cpu')).toBe('cpu');
    const failure = await useBackend('tensorflow', {
      native: () => Promise.reject(new Error('no libtensorflow')),
    }).catch((e: unknown) => e);
    expect(isRecsysError(failure) && failure.code === 'BACKEND_UNAVAILABLE').toBe(true);
    expect((failure as Error).message).toContain('tensorflow: no libtensorflow');
  });
});

describe('restoreRemovedUtilFunctions', () => {
  it('gives tfjs-node the util functions Node 23 removed, with their old meaning', () => {
    restoreRemovedUtilFunctions();
    const util = createRequire(import.meta.url)('node:util') as {
      isNullOrUndefined: (v: unknown) => boolean;
      isArray: (v: unknown) => boolean;
    };
    expect([null, undefined, 0, '', false, {}].map((v) => util.isNullOrUndefined(v))).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(util.isArray([1])).toBe(true);
    expect(util.isArray({ length: 1 })).toBe(false);
  });
});

describe('nativeEnvironmentDefaults', () => {
  it('turns oneDNN and INFO logging off unless the user chose otherwise', () => {
    const unset: NodeJS.ProcessEnv = {};
    nativeEnvironmentDefaults(unset);
    expect(unset).toEqual({ TF_ENABLE_ONEDNN_OPTS: '0', TF_CPP_MIN_LOG_LEVEL: '1' });
    const chosen: NodeJS.ProcessEnv = { TF_ENABLE_ONEDNN_OPTS: '1', TF_CPP_MIN_LOG_LEVEL: '0' };
    nativeEnvironmentDefaults(chosen);
    expect(chosen).toEqual({ TF_ENABLE_ONEDNN_OPTS: '1', TF_CPP_MIN_LOG_LEVEL: '0' });
  });
});
