import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { RecsysError } from '../errors/index.ts';

/**
 * TF.js backend selection (DESIGN.md): native TensorFlow (`@tensorflow/tfjs-node`) when it is
 * installed, else WebAssembly, else the plain JavaScript CPU backend. `auto` picks the first that
 * loads; naming one makes its absence an error (BACKEND_UNAVAILABLE).
 */
export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

const require = createRequire(import.meta.url);

/** Module name kept in a variable: the native package is optional and usually absent. */
const NATIVE_MODULE = '@tensorflow/tfjs-node';

export interface BackendLoaders {
  native(): Promise<unknown>;
}

const defaultLoaders: BackendLoaders = {
  native: () => {
    restoreRemovedUtilFunctions();
    // Not configuration: the environment libtensorflow itself reads when it loads.
    // eslint-disable-next-line no-restricted-syntax
    nativeEnvironmentDefaults(process.env);
    return import(NATIVE_MODULE);
  },
};

/**
 * tfjs-node 4.22 (the last release) calls util.isNullOrUndefined and util.isArray, which Node
 * removed in version 23: without them every native kernel with an optional attribute throws.
 * Restores the two exactly as they were (docs/backends.md).
 */
export function restoreRemovedUtilFunctions(): void {
  const util = require('node:util') as Record<string, unknown>;
  util['isNullOrUndefined'] ??= (value: unknown) => value === null || value === undefined;
  // Still present in Node 24 but deprecated (a warning per call): the same function, silently.
  util['isArray'] = Array.isArray;
}

/**
 * Defaults for libtensorflow, read when it loads; a value the user set wins. oneDNN's custom
 * kernels cost more per op than they save on NeuMF's small matrices (docs/backends.md), and
 * TensorFlow's INFO lines would interleave with the JSON logs on stderr.
 */
export function nativeEnvironmentDefaults(env: NodeJS.ProcessEnv): void {
  env['TF_ENABLE_ONEDNN_OPTS'] ??= '0';
  env['TF_CPP_MIN_LOG_LEVEL'] ??= '1';
}

/** Activates a backend; returns its name. Safe to call repeatedly. */
export async function useBackend(
  preference: BackendPreference = 'auto',
  loaders: BackendLoaders = defaultLoaders,
): Promise<BackendName> {
  const order: BackendName[] = preference === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [preference];
  const failures: string[] = [];
  for (const name of order) {
    try {
      if (name === 'tensorflow') await loaders.native();
      if (name === 'wasm') await registerWasm();
      if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
      await tf.ready();
      return name;
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new RecsysError('BACKEND_UNAVAILABLE', {
    message: `No TF.js backend could be loaded (${failures.join('; ')}). See docs/backends.md.`,
  });
}

let wasmRegistered: Promise<void> | undefined;

function registerWasm(): Promise<void> {
  wasmRegistered ??= (async () => {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    wasm.setWasmPaths(`${dist}/`);
  })();
  return wasmRegistered;
}

/** The active backend's name. */
export function activeBackend(): string {
  return tf.getBackend();
}
