import type { ModelName } from '../../shared/model/registry.ts';
import type { Config, DeepPartial, RecsysConfig } from '../../shared/config/index.ts';
import { demoWorld } from '../../shared/demo/world.ts';
import { loadMovieLens100k } from '../../shared/evaluation/movielens.ts';
import { movieLensCatalog, movieLensEvents } from '../../shared/evaluation/movielens-events.ts';
import { createEventCodec } from '../../shared/schemas/index.ts';
import { readEventsFile, readItemsFile, readUsersFile } from '../event-files.ts';
import { progressBar } from '../progress.ts';
import type { CommandIo } from '../run-command.ts';
import {
  demoContextShares,
  evaluateServed,
  type ContextShares,
  type EventDataset,
  type ServedEvalResult,
} from '../served-eval.ts';
import { formatTable } from '../table.ts';

export interface ServedEvalFlags {
  readonly data: string;
  readonly events?: string;
  readonly items?: string;
  readonly users?: string;
  readonly skipInvalid?: boolean;
  readonly context: boolean;
  readonly lift?: boolean;
  readonly block?: number;
  readonly freshness?: number;
  readonly sample?: number;
  readonly models?: ModelName[];
  readonly seed: number;
  readonly json?: boolean;
}

/** The demo world's bars (issue: context that changes the ranking). */
const OWN_AT_LEAST = 0.7;
const OTHER_AT_MOST = 0.15;

/**
 * `recsys eval --model serving`: the served pipeline on a data set (cli/served-eval.ts), with
 * context and, with --lift, again without it. Returns true when every bar printed passed.
 */
export async function runServedEvaluation(
  flags: ServedEvalFlags,
  loadConfig: (overrides: DeepPartial<Config>) => RecsysConfig,
  io: CommandIo,
): Promise<boolean> {
  const { data, world, contextFields } = loadDataset(flags, loadConfig({}), io);
  const configFor = (context: boolean) =>
    loadConfig({
      trainer: {
        metricsPort: 0,
        flushMs: 0,
        ...(flags.models === undefined ? {} : { models: flags.models }),
      },
      model: { mf: { context }, context: { fields: contextFields } },
    });
  const counts = `${data.events.length.toLocaleString('en-US')} events, ${data.items.length.toLocaleString('en-US')} catalog items, ${data.users.length.toLocaleString('en-US')} users`;
  io.stdout.write(`served pipeline on ${data.name}: ${counts}\n`);
  const runs: { label: string; result: ServedEvalResult; shares?: ContextShares }[] = [];
  const passes = flags.lift === true ? [true, false] : [flags.context];
  for (const context of passes) {
    const progress = progressBar();
    const result = await evaluateServed({
      config: configFor(context),
      data,
      context,
      seed: flags.seed,
      ...(flags.block === undefined ? {} : { block: flags.block }),
      ...(flags.freshness === undefined ? {} : { freshnessMs: flags.freshness }),
      ...(flags.sample === undefined ? {} : { sample: flags.sample }),
      onProgress: (done, total) => progress.update(context ? 'with context' : 'without context', done, total),
    });
    progress.done();
    const shares = world === undefined ? undefined : await demoContextShares(world, result.served);
    await result.served.close();
    runs.push({ label: context ? 'context' : 'no context', result, ...(shares ? { shares } : {}) });
  }

  const rows: string[][] = [['metric', ...runs.map((r) => r.label), ...(runs.length === 2 ? ['lift'] : [])]];
  const metric = (name: string, get: (r: ServedEvalResult) => number, digits = 4) => {
    const values = runs.map((r) => get(r.result));
    const lift =
      values.length === 2 && (values[1] as number) > 0
        ? [`${(((values[0] as number) / (values[1] as number) - 1) * 100).toFixed(1)}%`]
        : values.length === 2
          ? ['-']
          : [];
    rows.push([name, ...values.map((v) => v.toFixed(digits)), ...lift]);
  };
  metric('HR@10', (r) => r.metrics.hr);
  metric('NDCG@10', (r) => r.metrics.ndcg);
  metric('MRR@10', (r) => r.metrics.mrr);
  metric('coverage', (r) => r.metrics.coverage);
  metric('diversity', (r) => r.metrics.diversity);
  metric('novelty', (r) => r.metrics.novelty, 3);
  for (const source of Object.keys(runs[0]?.result.sources ?? {}))
    metric(`source ${source}`, (r) => r.sources[source as keyof typeof r.sources], 3);
  rows.push(['events ranked', ...runs.map((r) => String(r.result.evaluated))]);
  rows.push(['events/second', ...runs.map((r) => Math.round(r.result.eventsPerSecond).toString())]);
  io.stdout.write(
    `prequential, served: each event requested before it is learnt, with every event older than ${flags.freshness ?? 1_000} ms learnt (blocks of at most ${flags.block ?? 100}); filterSeen; k = 10\n${formatTable(rows)}\n`,
  );

  let ok = true;
  const withContext = runs.find((r) => r.label === 'context');
  if (withContext?.shares !== undefined) {
    const bars: string[][] = [['device', 'own genre', 'target', 'other genre', 'target', 'result']];
    for (const device of ['mobile', 'desktop'] as const) {
      const { own, other } = withContext.shares[device];
      const pass = own >= OWN_AT_LEAST && other <= OTHER_AT_MOST;
      ok &&= pass;
      bars.push([
        device,
        own.toFixed(3),
        `>= ${OWN_AT_LEAST}`,
        other.toFixed(3),
        `<= ${OTHER_AT_MOST}`,
        pass ? 'PASS' : 'FAIL',
      ]);
    }
    io.stdout.write(
      `\ndemo world, top 10 of each of ${world?.personas.length ?? 0} users on mobile at 21:00 and desktop at 14:00: share of the genre the user picks on that device\n${formatTable(bars)}\n`,
    );
  }
  if (flags.json === true) {
    io.stdout.write(
      `${JSON.stringify({
        data: data.name,
        runs: runs.map((r) => ({
          context: r.label === 'context',
          metrics: r.result.metrics,
          sources: r.result.sources,
          evaluated: r.result.evaluated,
          eventsPerSecond: r.result.eventsPerSecond,
          ...(r.shares ? { contextShares: r.shares } : {}),
        })),
      })}\n`,
    );
  }
  return ok;
}

function loadDataset(
  flags: ServedEvalFlags,
  config: RecsysConfig,
  io: CommandIo,
): { data: EventDataset; world?: ReturnType<typeof demoWorld>; contextFields: string[] } {
  const builtIn = ['hour', 'dow', 'device'];
  if (flags.events !== undefined) {
    const codec = createEventCodec({ types: config.events.types, maxBytes: config.events.maxBytes });
    const skip = flags.skipInvalid === true;
    const events = readEventsFile(flags.events, codec, skip);
    const items = flags.items === undefined ? undefined : readItemsFile(flags.items, skip);
    const users = flags.users === undefined ? undefined : readUsersFile(flags.users, skip);
    for (const file of [events, items, users])
      for (const problem of file?.problems ?? []) io.stderr.write(`skipped ${problem}\n`);
    const skipped = events.skipped + (items?.skipped ?? 0) + (users?.skipped ?? 0);
    if (skipped > 0) io.stderr.write(`skipped ${skipped} invalid rows in all\n`);
    // Every context field the file uses is a context feature of the run.
    const fields = new Set(config.model.context.fields);
    for (const e of events.rows) for (const field of Object.keys(e.context ?? {})) fields.add(field);
    return {
      data: {
        name: flags.events,
        events: events.rows,
        items: items?.rows ?? [],
        users: users?.rows ?? [],
      },
      contextFields: [...fields].filter((f) => !builtIn.includes(f)).slice(0, 16),
    };
  }
  if (flags.data === 'demo') {
    const world = demoWorld({ now: Date.UTC(2026, 0, 15), seed: config.model.seed });
    return {
      data: { name: 'the demo world', events: world.events, items: world.items, users: world.users },
      world,
      contextFields: [...config.model.context.fields],
    };
  }
  const movies = loadMovieLens100k(flags.data);
  const catalog = movieLensCatalog(movies);
  return {
    data: { name: 'MovieLens 100K', events: movieLensEvents(movies, 'click'), ...catalog },
    contextFields: [...config.model.context.fields],
  };
}
