export { loadConfig, type LoadConfigOptions, type DeepPartial } from './load.ts';
export { defaultConfig } from './defaults.ts';
export { ENV_BINDINGS, type EnvBinding } from './env.ts';
export { ConfigSchema, type Config, type RecsysConfig, type EventTypeConfig } from './schema.ts';
export { describeDeployment, type Deployment } from './deployment.ts';
export { mfConfigFrom, neumfConfigFrom } from './models.ts';
