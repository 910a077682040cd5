import { MF_TABLES, NEUMF_TABLES } from '../../shared/model/registry.ts';
import { Command } from 'commander';
import { openModelStore } from '../../shared/adapters/open.ts';
import type { RecsysConfig } from '../../shared/config/index.ts';
import type { ModelStore, Row } from '../../shared/ports/index.ts';
import { EXIT } from '../exit-codes.ts';
import { toolLogger, type CommandIo } from '../run-command.ts';

const TABLES = {
  user: [MF_TABLES.user, NEUMF_TABLES.gmfUser, NEUMF_TABLES.mlpUser],
  item: [MF_TABLES.item, NEUMF_TABLES.gmfItem, NEUMF_TABLES.mlpItem],
} as const;

interface RowSummary {
  readonly table: string;
  readonly dim: number;
  readonly norm: number;
  readonly bias: number;
  readonly count: number;
  readonly version: number;
  readonly updatedAt: string;
}

/** `recsys inspect user|item <id>`: what the model store holds about one user or item. */
export function inspectCommand(
  io: CommandIo,
  config: () => RecsysConfig,
  setCode: (code: number) => void,
): Command {
  const inspect = new Command('inspect')
    .description(
      'show what the model store holds about a user or an item: rows, versions, history, catalog record',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  recsys inspect user user-0001\n  recsys inspect item comedy-001 --json',
    );
  for (const kind of ['user', 'item'] as const) {
    inspect
      .command(`${kind} <id>`)
      .description(
        `the ${kind}'s catalog record, model rows (norm, count, version, last update)${kind === 'user' ? ' and recent history' : ' and popularity'}`,
      )
      .option('--json', 'print one JSON object')
      .addHelpText(
        'after',
        `\nExamples:\n  recsys inspect ${kind} ${kind === 'user' ? 'user-0001' : 'comedy-001'}\n  REDIS_URL=redis://localhost:6379 recsys inspect ${kind} ${kind === 'user' ? 'u42' : 'movie-7'} --json\n\nExit code 1 when the store knows nothing about it.`,
      )
      .action(async (id: string, flags: { json?: boolean }) => {
        const cfg = config();
        const logger = toolLogger(cfg, io, 'recsys-inspect');
        const store = await openModelStore(cfg, logger, 'recsys-inspect', { readOnly: true });
        try {
          const report = await describe(store, kind, id);
          if (flags.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          else io.stdout.write(format(report));
          setCode(report.known ? EXIT.OK : EXIT.FAILURE);
        } finally {
          await store.close();
        }
      });
  }
  return inspect;
}

interface Report {
  readonly kind: 'user' | 'item';
  readonly id: string;
  readonly known: boolean;
  readonly record: unknown;
  readonly rows: readonly RowSummary[];
  readonly history?: readonly string[];
  readonly events?: Readonly<Record<string, number>>;
  readonly popularityRank?: number;
}

async function describe(store: ModelStore, kind: 'user' | 'item', id: string): Promise<Report> {
  const rows: RowSummary[] = [];
  for (const table of TABLES[kind]) {
    const [row] = await store.getRows(table, [id]);
    if (row !== undefined) rows.push(summary(table, row));
  }
  const [record] = kind === 'user' ? await store.getUsers([id]) : await store.getItems([id]);
  if (kind === 'user') {
    const [history = []] = await store.getHistories([id]);
    const [mf = 0, neumf = 0] = await Promise.all([
      store.getCounters('events:mf', [id]).then((c) => c[0] ?? 0),
      store.getCounters('events:neumf', [id]).then((c) => c[0] ?? 0),
    ]);
    return {
      kind,
      id,
      known: record !== undefined || rows.length > 0 || history.length > 0,
      record: record ?? null,
      rows,
      history,
      events: { mf, neumf },
    };
  }
  const popular = await store.getPopular('*', 1_000);
  const rank = popular.findIndex((p) => p.itemId === id);
  return {
    kind,
    id,
    known: record !== undefined || rows.length > 0,
    record: record ?? null,
    rows,
    ...(rank >= 0 ? { popularityRank: rank + 1 } : {}),
  };
}

function summary(table: string, row: Row): RowSummary {
  let sq = 0;
  for (const v of row.vector) sq += v * v;
  return {
    table,
    dim: row.vector.length,
    norm: Number(Math.sqrt(sq).toFixed(4)),
    bias: Number(row.bias.toFixed(4)),
    count: row.count,
    version: row.version,
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

function format(report: Report): string {
  const lines = [`${report.kind} ${report.id}${report.known ? '' : ': not known to the model store'}`];
  if (!report.known) return `${lines[0]}\n`;
  lines.push(`  catalog   ${report.record === null ? '(no record)' : JSON.stringify(report.record)}`);
  if (report.rows.length === 0) lines.push('  rows      (none yet)');
  for (const r of report.rows)
    lines.push(
      `  ${r.table.padEnd(13)} dim ${r.dim}  norm ${r.norm}  bias ${r.bias}  count ${r.count}  version ${r.version}  updated ${r.updatedAt}`,
    );
  if (report.events !== undefined)
    lines.push(
      `  events    ${Object.entries(report.events)
        .map(([m, n]) => `${m} ${n}`)
        .join(', ')}`,
    );
  if (report.history !== undefined)
    lines.push(
      `  history   ${report.history.length === 0 ? '(empty)' : report.history.slice(-20).join(' ')}`,
    );
  if (report.kind === 'item')
    lines.push(
      `  popular   ${report.popularityRank === undefined ? 'not in the top 1,000' : `#${report.popularityRank} overall`}`,
    );
  return `${lines.join('\n')}\n`;
}
