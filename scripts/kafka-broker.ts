import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, run, type Say } from './service-install.ts';

/** One Kafka KRaft node (broker and controller in one process) on loopback. */
export interface KafkaNode {
  readonly dir: string;
  /** 1, 2, ... within its cluster. */
  readonly nodeId: number;
  readonly port: number;
  readonly controllerPort: number;
}

/**
 * Formats a fresh storage for every node of a cluster (each node's `dir`: data, logs,
 * server.properties), all of them controllers and brokers. The ports are part of the storage's
 * quorum, so a node restarted on the same ports keeps its data (start again without formatting)
 * and one on new ports needs a new format. With three nodes or more, internal topics are
 * replicated three times with `min.insync.replicas` 2, the setting that survives one broker lost.
 */
export function formatKafkaCluster(java: string, libs: string, nodes: readonly KafkaNode[], say: Say): void {
  const first = nodes[0] as KafkaNode;
  mkdirSync(join(first.dir, 'logs'), { recursive: true });
  const uuid = run(
    java,
    [...jvm(libs, first), 'kafka.tools.StorageTool', 'random-uuid'],
    'kafka-storage random-uuid',
  )
    .trim()
    .split('\n')
    .pop() as string;
  say(`formatting Kafka storage (KRaft, ${nodes.length} node${nodes.length === 1 ? '' : 's'})`);
  for (const node of nodes) formatNode(java, libs, node, nodes, uuid);
}

function formatNode(
  java: string,
  libs: string,
  node: KafkaNode,
  nodes: readonly KafkaNode[],
  uuid: string,
): void {
  const dataDir = join(node.dir, 'data');
  const replicas = Math.min(3, nodes.length);
  const minInsync = replicas >= 3 ? 2 : 1;
  mkdirSync(join(node.dir, 'logs'), { recursive: true });
  writeFileSync(
    propertiesFile(node),
    [
      'process.roles=broker,controller',
      `node.id=${node.nodeId}`,
      `controller.quorum.voters=${nodes.map((n) => `${n.nodeId}@127.0.0.1:${n.controllerPort}`).join(',')}`,
      `listeners=PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${node.port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${dataDir}`,
      'num.partitions=1',
      'auto.create.topics.enable=false',
      `offsets.topic.replication.factor=${replicas}`,
      'offsets.topic.num.partitions=4',
      `transaction.state.log.replication.factor=${replicas}`,
      `transaction.state.log.min.isr=${minInsync}`,
      `share.coordinator.state.topic.replication.factor=${replicas}`,
      `share.coordinator.state.topic.min.isr=${minInsync}`,
      `min.insync.replicas=${minInsync}`,
      'group.initial.rebalance.delay.ms=0',
      'delete.topic.enable=true',
      '',
    ].join('\n'),
  );
  rmSync(dataDir, { recursive: true, force: true });
  run(
    java,
    [...jvm(libs, node), 'kafka.tools.StorageTool', 'format', '-t', uuid, '-c', propertiesFile(node)],
    'kafka-storage format',
  );
}

/** Starts a formatted node; its output goes to `out` (appended). */
export function startKafkaNode(
  java: string,
  libs: string,
  node: KafkaNode,
  out: string,
  options: { detached: boolean },
): ChildProcess {
  const fd = openSync(out, 'a');
  const child = spawn(java, [...jvm(libs, node), 'kafka.Kafka', propertiesFile(node)], {
    detached: options.detached,
    stdio: ['ignore', fd, fd],
  });
  if (options.detached) child.unref();
  return child;
}

function propertiesFile(node: KafkaNode): string {
  return join(node.dir, 'server.properties');
}

function jvm(libs: string, node: KafkaNode): string[] {
  return [
    '-cp',
    `${libs}/*`,
    '-Xms256m',
    '-Xmx768m',
    '-XX:+UseG1GC',
    `-Dkafka.logs.dir=${join(node.dir, 'logs')}`,
    `-Dlog4j2.configurationFile=${join(ROOT, 'scripts', 'kafka', 'log4j2.properties')}`,
  ];
}
