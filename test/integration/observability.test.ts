import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoWorld } from '../../shared/demo/world.ts';
import { PROMETHEUS_DIR, PrometheusProcess, prometheusBinary } from '../support/prometheus.ts';
import { ServingProcess } from '../support/serving-process.ts';
import { TrainerProcess } from '../support/trainer-process.ts';
import { trainerRun } from '../support/trainer-run.ts';
import { sleep, waitUntil } from '../support/wait.ts';

const root = resolve(import.meta.dirname, '../..');
const DASHBOARDS = join(root, 'ops', 'grafana', 'dashboards');

interface Panel {
  readonly title: string;
  readonly targets?: readonly { readonly expr: string }[];
}

function dashboards(): { file: string; title: string; panels: Panel[] }[] {
  return readdirSync(DASHBOARDS)
    .filter((f) => f.endsWith('.json'))
    .map((file) => {
      const board = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as {
        title: string;
        panels: Panel[];
      };
      return { file, title: board.title, panels: board.panels };
    });
}

interface RuleGroupFile {
  groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
}

function ruleFiles(): Record<string, RuleGroupFile> {
  const dir = join(PROMETHEUS_DIR, 'rules');
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith('.yml'))
      .map((f) => [f, parse(readFileSync(join(dir, f), 'utf8')) as RuleGroupFile]),
  );
}

/** Metric families in an exposition text (histogram parts folded into their family name). */
function families(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) /.exec(line);
    if (m?.[1] !== undefined) out.add(m[1]);
  }
  return out;
}

const FUNCTIONS_AND_KEYWORDS = new Set([
  'sum',
  'rate',
  'by',
  'or',
  'and',
  'vector',
  'histogram_quantile',
  'le',
  'deriv',
  'max',
  'max_over_time',
  'ignoring',
  'group_left',
  'absent',
  'up',
  'on',
  'without',
  'unless',
  'bool',
]);

/** Metric names an expression reads: identifiers outside label matchers and strings. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, '')
    .replace(/"[^"]*"/g, '')
    .replace(/\[[^\]]*\]/g, '');
  return (bare.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []).filter(
    (name) =>
      !FUNCTIONS_AND_KEYWORDS.has(name) &&
      !/^(model|route|source|reason|code|status|outcome|operation|service|instance|table|partition)$/.test(
        name,
      ),
  );
}

/**
 * The operations proof without Docker: a real Prometheus runs the repository's configuration and
 * rules against a trainer (MF and NeuMF) and a serving process on the real Kafka and Redis, while
 * events and requests flow; then every dashboard panel's query must return data, every rule must
 * load and evaluate, reference only exported metrics, and pass promtool, and every metric
 * docs/operations.md documents must exist.
 */
describe('Prometheus and Grafana configuration against the running services', () => {
  let run: Awaited<ReturnType<typeof trainerRun>>;
  let trainer: TrainerProcess;
  let serving: ServingProcess;
  let prometheus: PrometheusProcess;
  let exported: Set<string>;

  beforeAll(async () => {
    prometheusBinary(); // fail early with what to install
    run = await trainerRun({
      partitions: 2,
      config: {
        trainer: { models: ['mf', 'neumf'], flushMs: 100, auditEventIds: false, prequentialSample: 0.2 },
        model: { neumf: { gmfDim: 8, mlpDim: 8, hidden: [16, 8], batchSize: 64 } },
      },
    });
    trainer = await TrainerProcess.start(run.services, { configFile: run.configFile });
    // Two serving workers: Prometheus scrapes the cluster's summed metrics, as a deployment that
    // uses the machine's cores would expose them (and the primary's own two metrics exist).
    serving = await ServingProcess.start({
      KAFKA_BROKERS: run.services.kafkaBrokers,
      REDIS_URL: run.services.redisUrl,
      RECSYS_CONFIG: run.configFile,
      RECSYS_SERVING_WORKERS: '2',
    });
    const host = (url: string) => new URL(url).host;
    prometheus = await PrometheusProcess.start({
      'recsys-trainer': host(trainer.metricsUrl as string),
      'recsys-serving': host(serving.url as string),
    });

    // Traffic for a while: a catalog, events through the API (and a few invalid records straight
    // into Kafka for the dead-letter panels), recommendation, similar and popular requests, and
    // some client errors.
    const world = demoWorld({ now: Date.now(), users: 120, eventsPerUser: 40, seed: 5 });
    await run.store.putItems(world.items.map((record) => ({ id: record.itemId, record })));
    const api = serving.url as string;
    const send = (path: string, body?: unknown) =>
      fetch(`${api}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      }).then((res) => res.text());
    const started = Date.now();
    let next = 0;
    let tick = 0;
    while (Date.now() - started < 25_000) {
      const batch = world.events.slice(next, next + 60).map(({ timestamp: _t, ...event }) => event);
      next = (next + 60) % world.events.length;
      await send('/v1/events', batch);
      const user = world.personas[tick % world.personas.length]?.userId as string;
      await Promise.all([
        send(`/v1/users/${user}/recommendations?k=10&device=${tick % 2 === 0 ? 'mobile' : 'desktop'}`),
        send('/v1/recommendations', { userId: `new-${tick}`, k: 5 }),
        send(`/v1/items/${world.items[tick % world.items.length]?.itemId}/similar?k=5`),
        send('/v1/popular?k=5&device=mobile'),
        send('/v1/users/u/recommendations?k=0'), // 400
        send('/v1/items/no-such-item/similar'), // 404
      ]);
      if (tick % 20 === 0)
        await run.log.append([{ key: 'broken', value: Buffer.from('{"userId": not json') }]);
      tick++;
      await sleep(150);
    }
    exported = new Set([
      ...families(await (await fetch(`${trainer.metricsUrl}/metrics`)).text()),
      ...families(await (await fetch(`${api}/metrics`)).text()),
    ]);
    // Let a few more scrapes and rule evaluations land.
    await waitUntil(
      async () => (await prometheus.query('model:recsys_trainer_events_applied:rate1m')).length >= 2,
      'recording rules to have data',
      30_000,
      500,
    );
  }, 240_000);

  afterAll(async () => {
    await prometheus?.stop();
    await serving?.stop();
    trainer?.kill('SIGTERM');
    await trainer?.exited();
    await run?.cleanup();
  }, 60_000);

  it('scrapes both services', async () => {
    const up = await prometheus.query('up');
    expect(up.map((s) => [s.metric['job'], s.value]).sort()).toEqual([
      ['recsys-serving', 1],
      ['recsys-trainer', 1],
    ]);
  });

  it('answers every query of every dashboard panel with data', async () => {
    const boards = dashboards();
    expect(boards.map((b) => b.file).sort()).toEqual([
      'model-quality.json',
      'overview.json',
      'resources.json',
    ]);
    const empty: string[] = [];
    let queries = 0;
    for (const board of boards) {
      for (const panel of board.panels) {
        expect(panel.targets?.length, `${board.title} / ${panel.title} has no query`).toBeGreaterThan(0);
        for (const target of panel.targets ?? []) {
          queries++;
          const samples = await prometheus.query(target.expr);
          if (!samples.some((s) => Number.isFinite(s.value)))
            empty.push(`${board.title} / ${panel.title}: ${target.expr} -> ${JSON.stringify(samples)}`);
        }
      }
    }
    expect(empty, empty.join('\n')).toEqual([]);
    expect(queries).toBeGreaterThanOrEqual(30);
  });

  it('loads every rule, evaluates it without error, and reads only metrics the services export', async () => {
    const { promtool } = prometheusBinary();
    const files = ruleFiles();
    const check = spawnSync(
      promtool,
      ['check', 'rules', ...Object.keys(files).map((f) => join(PROMETHEUS_DIR, 'rules', f))],
      {
        encoding: 'utf8',
      },
    );
    expect(check.status, check.stdout + check.stderr).toBe(0);

    const recorded = new Set(
      Object.values(files).flatMap((f) =>
        f.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))),
      ),
    );
    const rules = Object.values(files).flatMap((f) => f.groups.flatMap((g) => g.rules));
    expect(rules.filter((r) => r.alert !== undefined).length).toBeGreaterThanOrEqual(8);
    const unknown: string[] = [];
    const exprs = [
      ...rules.map((r) => r.expr),
      ...dashboards().flatMap((b) => b.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))),
    ];
    for (const expr of exprs)
      for (const name of metricNames(expr)) {
        const family = name.replace(/_(bucket|sum|count)$/, '');
        if (!recorded.has(name) && !exported.has(name) && !exported.has(family))
          unknown.push(`${name} in ${expr}`);
      }
    expect(unknown, unknown.join('\n')).toEqual([]);

    const loaded = await prometheus.get<{
      groups: { rules: { name: string; health: string; lastError?: string }[] }[];
    }>('/api/v1/rules');
    const health = loaded.groups.flatMap((g) =>
      g.rules.map((r) => `${r.name}: ${r.health}${r.lastError ? ` ${r.lastError}` : ''}`),
    );
    expect(health.length).toBe(rules.length);
    expect(health.filter((h) => !h.endsWith(': ok'))).toEqual([]);
    // Healthy traffic fires no critical alert.
    const alerts = await prometheus.get<{ alerts: { labels: Record<string, string>; state: string }[] }>(
      '/api/v1/alerts',
    );
    expect(alerts.alerts.filter((a) => a.labels['severity'] === 'critical' && a.state === 'firing')).toEqual(
      [],
    );
  });

  it('exports every metric docs/operations.md documents, and documents every alert', () => {
    const doc = readFileSync(join(root, 'docs', 'operations.md'), 'utf8');
    const metricsSection = doc.slice(doc.indexOf('## Metrics'), doc.indexOf('## Alerts'));
    const documented = [
      ...new Set(metricsSection.match(/`(recsys_[a-z0-9_]+)`/g)?.map((m) => m.slice(1, -1)) ?? []),
    ];
    expect(documented.length).toBeGreaterThanOrEqual(30);
    const missing = documented.filter(
      (name) => !exported.has(name) && !exported.has(name.replace(/_total$/, '')),
    );
    expect(missing).toEqual([]);
    for (const name of exported)
      if (name.startsWith('recsys_') && !/^recsys_(process|nodejs)_/.test(name)) {
        expect(documented, `${name} is exported but not documented`).toContain(name);
      }
    const alerts = Object.values(ruleFiles()).flatMap((f) =>
      f.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : []))),
    );
    for (const alert of alerts) expect(doc).toContain(`### ${alert}`);
  });
});
