import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatKafkaNode, startKafkaNode, type KafkaNode } from '../../scripts/kafka-broker.ts';
import { ensureJava, ensureKafkaJars } from '../../scripts/service-install.ts';
import { freePorts, kafkaAnswers } from '../../scripts/service-process.ts';
import { signalAndWait } from './child.ts';
import { waitUntil } from './wait.ts';

/**
 * A Kafka broker of the test's own (one KRaft node, data in a temporary folder), so a test can
 * kill and restart it without disturbing the shared one. Restarts keep its ports and its data.
 */
export class OwnKafka {
  readonly #java: string;
  readonly #libs: string;
  readonly #node: KafkaNode;
  #child: ChildProcess | undefined;

  private constructor(java: string, libs: string, node: KafkaNode) {
    this.#java = java;
    this.#libs = libs;
    this.#node = node;
  }

  get brokers(): string {
    return `127.0.0.1:${this.#node.port}`;
  }

  static async start(): Promise<OwnKafka> {
    const java = ensureJava();
    const libs = ensureKafkaJars(() => undefined);
    const [port, controllerPort] = (await freePorts(2)) as [number, number];
    const node = { dir: mkdtempSync(join(tmpdir(), 'recsys-kafka-')), port, controllerPort };
    formatKafkaNode(java, libs, node, () => undefined);
    const kafka = new OwnKafka(java, libs, node);
    await kafka.resume();
    return kafka;
  }

  /** Starts (again) on the same ports and data; resolves when it answers. */
  async resume(): Promise<void> {
    this.#child = startKafkaNode(this.#java, this.#libs, this.#node, join(this.#node.dir, 'kafka.out'), {
      detached: false,
    });
    await waitUntil(() => kafkaAnswers(this.brokers), 'kafka to answer', 90_000, 200);
  }

  /** Kills the broker (SIGKILL: no controlled shutdown); resolves once it is gone. */
  async kill(): Promise<void> {
    await signalAndWait(this.#child, 'SIGKILL');
  }

  async destroy(): Promise<void> {
    const child = this.#child;
    const stopped = signalAndWait(child, 'SIGTERM');
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    await signalAndWait(child, 'SIGKILL');
    rmSync(this.#node.dir, { recursive: true, force: true });
  }
}
