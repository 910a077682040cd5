import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, run, type Say } from './service-install.ts';

/** One Kafka KRaft node (broker and controller in one process) on loopback. */
export interface KafkaNode {
  readonly dir: string;
  readonly port: number;
  readonly controllerPort: number;
}

/**
 * Formats a fresh storage for the node in `dir` (data, logs, server.properties). The ports are
 * part of the storage's quorum, so a node restarted on the same ports keeps its data (start
 * again without formatting) and one on new ports needs a new format.
 */
export function formatKafkaNode(java: string, libs: string, node: KafkaNode, say: Say): void {
  const dataDir = join(node.dir, 'data');
  mkdirSync(join(node.dir, 'logs'), { recursive: true });
  writeFileSync(
    propertiesFile(node),
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${node.controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${node.port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${dataDir}`,
      'num.partitions=1',
      'auto.create.topics.enable=false',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=4',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'delete.topic.enable=true',
      '',
    ].join('\n'),
  );
  rmSync(dataDir, { recursive: true, force: true });
  const uuid = run(
    java,
    [...jvm(libs, node), 'kafka.tools.StorageTool', 'random-uuid'],
    'kafka-storage random-uuid',
  )
    .trim()
    .split('\n')
    .pop() as string;
  say('formatting Kafka storage (KRaft)');
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
