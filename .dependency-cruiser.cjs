/**
 * Import direction is the architecture (DESIGN.md, STYLE.md). `npm run lint` fails on:
 *  - any import cycle;
 *  - shared/ importing a service, the CLI or a script;
 *  - one service importing another (trainer <-> serving);
 *  - shared/model importing a driver, an adapter or any I/O module (it is pure math);
 *  - shared/ports importing adapters (ports are interfaces; adapters implement them);
 *  - within serving: index/ importing ranking/ or http/, ranking/ importing http/, process/
 *    importing index/, ranking/ or http/.
 * test/unit/import-rules.test.ts proves each rule fails when violated.
 */
const DRIVERS = ['kafkajs', 'ioredis', 'fastify', '@fastify/[^/]+', 'pino', 'prom-client', 'testcontainers'];
const driverPath = `(^|/node_modules/)(${DRIVERS.join('|')})(/|$)`;
const ioBuiltins =
  '^(node:)?(fs|fs/promises|net|http|https|http2|dgram|child_process|cluster|worker_threads|tls|dns)$';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make start-up order and testing fragile.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'shared-not-to-services',
      severity: 'error',
      comment: 'shared/ is used by both services and never depends on one.',
      from: { path: '^shared/' },
      to: { path: '^(services|cli|scripts|bench)/' },
    },
    {
      name: 'trainer-not-to-serving',
      severity: 'error',
      comment: 'The two services never import each other; share code through shared/.',
      from: { path: '^services/trainer/' },
      to: { path: '^services/serving/' },
    },
    {
      name: 'serving-not-to-trainer',
      severity: 'error',
      comment: 'The two services never import each other; share code through shared/.',
      from: { path: '^services/serving/' },
      to: { path: '^services/trainer/' },
    },
    {
      name: 'model-is-pure',
      severity: 'error',
      comment: 'shared/model is pure math over typed arrays: no drivers, adapters or I/O modules.',
      from: { path: '^shared/model/' },
      to: { path: [driverPath, '^shared/(adapters|observability|config)/', ioBuiltins] },
    },
    {
      name: 'serving-index-not-to-ranking',
      severity: 'error',
      comment: 'Serving by stage: what is loaded (index/) never depends on how a request ranks.',
      from: { path: '^services/serving/index/' },
      to: { path: '^services/serving/(ranking|http)/' },
    },
    {
      name: 'serving-ranking-not-to-http',
      severity: 'error',
      comment: 'Serving by stage: ranking knows nothing of HTTP (routes call it, not the reverse).',
      from: { path: '^services/serving/ranking/' },
      to: { path: '^services/serving/http/' },
    },
    {
      name: 'serving-process-alone',
      severity: 'error',
      comment: 'Serving by stage: the process plumbing (process/) imports neither index/ nor ranking/.',
      from: { path: '^services/serving/process/' },
      to: { path: '^services/serving/(index|ranking|http)/' },
    },
    {
      name: 'ports-are-interfaces',
      severity: 'error',
      comment: 'shared/ports declares interfaces; only shared/adapters implements them with drivers.',
      from: { path: '^shared/ports/' },
      to: { path: [driverPath, '^shared/adapters/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
