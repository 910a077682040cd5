import { MODEL_NAMES, isModelName, type ModelName } from '../shared/model/registry.ts';
import { InvalidArgumentError } from 'commander';

/** Commander parser of a port flag. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('must be a port number (0-65535).');
  return n;
}

/** Commander parser of a model list flag (`mf`, `neumf`, `mf,neumf`). */
export function parseModels(value: string): ModelName[] {
  const models = value.split(',').map((m) => m.trim());
  for (const m of models)
    if (!isModelName(m))
      throw new InvalidArgumentError(
        `unknown model "${m}"; use one or more of ${MODEL_NAMES.join(', ')}, comma-separated.`,
      );
  return models as ModelName[];
}

/** Commander parser of a worker count flag: a whole number from 0 (one per core) to 256. */
export function parseWorkers(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 256)
    throw new InvalidArgumentError('must be a whole number from 0 (one per core) to 256.');
  return n;
}
