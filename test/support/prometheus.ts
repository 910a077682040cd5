import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { installDebianPackage } from './debian.ts';
import { waitUntil } from './wait.ts';

const root = resolve(import.meta.dirname, '../..');
export const PROMETHEUS_DIR = join(root, 'ops', 'prometheus');

/** The Prometheus binary: PROMETHEUS_PATH, the Debian package's, or installed with apt-get as root. */
export function prometheusBinary(): { prometheus: string; promtool: string } {
  const configured = process.env['PROMETHEUS_PATH'];
  const prometheus = configured !== undefined && configured !== '' ? configured : '/usr/bin/prometheus';
  const promtool = join(resolve(prometheus, '..'), 'promtool');
  if (existsSync(prometheus) && existsSync(promtool)) return { prometheus, promtool };
  installDebianPackage(
    'prometheus',
    'observability test',
    'The observability test needs Prometheus and promtool: install them (Debian/Ubuntu: sudo apt-get install -y prometheus) or set PROMETHEUS_PATH to a prometheus binary with promtool beside it.',
  );
  return { prometheus: '/usr/bin/prometheus', promtool: '/usr/bin/promtool' };
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

interface ScrapeConfig {
  job_name: string;
  static_configs: { targets: string[] }[];
}

/**
 * A real Prometheus running the repository's own configuration (ops/prometheus), with only the
 * scrape targets pointed at the test's processes and the intervals shortened.
 */
export class PrometheusProcess {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly output: string[] = [];

  private constructor(url: string, child: ChildProcess, dir: string) {
    this.url = url;
    this.#child = child;
    this.#dir = dir;
    for (const stream of [child.stdout, child.stderr])
      stream?.on('data', (c: Buffer) => this.output.push(c.toString()));
  }

  static async start(
    targets: Readonly<Record<string, string>>,
    intervalSeconds = 1,
  ): Promise<PrometheusProcess> {
    const { prometheus } = prometheusBinary();
    const config = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
      rule_files: string[];
      scrape_configs: ScrapeConfig[];
    };
    config.global['scrape_interval'] = `${intervalSeconds}s`;
    config.global['evaluation_interval'] = `${intervalSeconds}s`;
    config.rule_files = config.rule_files.map((file) => join(PROMETHEUS_DIR, file));
    for (const job of config.scrape_configs) {
      const target = targets[job.job_name];
      if (target === undefined) throw new Error(`no test target for scrape job ${job.job_name}`);
      job.static_configs = [{ targets: [target] }];
    }
    const dir = mkdtempSync(join(tmpdir(), 'recsys-prometheus-'));
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    const child = spawn(
      prometheus,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const instance = new PrometheusProcess(`http://127.0.0.1:${port}`, child, dir);
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited:\n${instance.output.join('')}`);
        try {
          return (await fetch(`${instance.url}/-/ready`)).ok;
        } catch {
          return false;
        }
      },
      'prometheus to be ready',
      30_000,
      100,
    );
    return instance;
  }

  /** An instant query; the result vector (or scalar as one sample). */
  async query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: unknown };
    };
    if (body.status !== 'success') throw new Error(`query failed: ${expr}: ${body.error}`);
    const { resultType, result } = body.data as { resultType: string; result: unknown };
    if (resultType === 'scalar') return [{ metric: {}, value: Number((result as [number, string])[1]) }];
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({
      metric: r.metric,
      value: Number(r.value[1]),
    }));
  }

  async get<T>(path: string): Promise<T> {
    const body = (await (await fetch(`${this.url}${path}`)).json()) as { status: string; data: T };
    if (body.status !== 'success') throw new Error(`${path} failed`);
    return body.data;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null) {
      const exited = new Promise((r) => this.#child.once('exit', r));
      this.#child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
