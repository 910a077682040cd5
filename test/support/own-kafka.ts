import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatKafkaCluster, startKafkaNode, type KafkaNode } from '../../scripts/kafka-broker.ts';
import { ensureJava, ensureKafkaJars } from '../../scripts/service-install.ts';
import { freePorts, kafkaAnswers } from '../../scripts/service-process.ts';
import { signalAndWait } from './child.ts';
import { waitUntil } from './wait.ts';

/**
 * Kafka of the test's own: one KRaft node, or a cluster of several (each broker and
 * controller; with three, internal topics replicated three times, min.insync.replicas 2), data
 * in a temporary folder, so a test can kill and restart brokers without disturbing the shared
 * one. Restarts keep their ports and data.
 */
export class OwnKafka {
  readonly #java: string;
  readonly #libs: string;
  readonly #root: string;
  readonly #nodes: readonly KafkaNode[];
  readonly #children: (ChildProcess | undefined)[];

  private constructor(java: string, libs: string, root: string, nodes: readonly KafkaNode[]) {
    this.#java = java;
    this.#libs = libs;
    this.#root = root;
    this.#nodes = nodes;
    this.#children = nodes.map(() => undefined);
  }

  /** Every broker's address, comma-separated (KAFKA_BROKERS). */
  get brokers(): string {
    return this.#nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  static async start(count = 1): Promise<OwnKafka> {
    const java = ensureJava();
    const libs = ensureKafkaJars(() => undefined);
    const ports = await freePorts(2 * count);
    const root = mkdtempSync(join(tmpdir(), 'recsys-kafka-'));
    const nodes = Array.from({ length: count }, (_, i) => {
      const dir = join(root, `node-${i + 1}`);
      mkdirSync(dir, { recursive: true });
      return { dir, nodeId: i + 1, port: ports[2 * i] as number, controllerPort: ports[2 * i + 1] as number };
    });
    formatKafkaCluster(java, libs, nodes, () => undefined);
    const kafka = new OwnKafka(java, libs, root, nodes);
    for (let i = 0; i < count; i++) kafka.#launch(i);
    await kafka.#ready();
    return kafka;
  }

  /** Starts broker `index` again (on its ports and data); resolves when all brokers answer. */
  async resume(index = 0): Promise<void> {
    this.#launch(index);
    await this.#ready();
  }

  /** Kills broker `index` (SIGKILL: no controlled shutdown); resolves once it is gone. */
  async kill(index = 0): Promise<void> {
    await signalAndWait(this.#children[index], 'SIGKILL');
  }

  async destroy(): Promise<void> {
    for (const child of this.#children) {
      const stopped = signalAndWait(child, 'SIGTERM');
      await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      await signalAndWait(child, 'SIGKILL');
    }
    rmSync(this.#root, { recursive: true, force: true });
  }

  #launch(index: number): void {
    const node = this.#nodes[index] as KafkaNode;
    this.#children[index] = startKafkaNode(this.#java, this.#libs, node, join(node.dir, 'kafka.out'), {
      detached: false,
    });
  }

  async #ready(): Promise<void> {
    await waitUntil(
      () => kafkaAnswers(this.brokers, this.#nodes.length),
      'every kafka broker to answer',
      120_000,
      200,
    );
  }
}
