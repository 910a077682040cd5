import { InvalidArgumentError } from 'commander';

/** Commander parser of a port flag. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('must be a port number (0-65535).');
  return n;
}

/** Commander parser of a model list flag (`mf`, `neumf`, `mf,neumf`). */
export function parseModels(value: string): ('mf' | 'neumf')[] {
  const models = value.split(',').map((m) => m.trim());
  for (const m of models)
    if (m !== 'mf' && m !== 'neumf')
      throw new InvalidArgumentError(`unknown model "${m}"; use mf, neumf or mf,neumf.`);
  return models as ('mf' | 'neumf')[];
}

/** Commander parser of a worker count flag: a whole number from 0 (one per core) to 256. */
export function parseWorkers(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 256)
    throw new InvalidArgumentError('must be a whole number from 0 (one per core) to 256.');
  return n;
}
