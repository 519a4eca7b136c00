import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { collectOutput } from '../../support/processes.ts';

/** The three-node JetStream cluster of `scripts/nats-cluster.sh`, run from a test. */
export const CLUSTER_PORTS = [14222, 14223, 14224] as const;
export const CLUSTER_URL = CLUSTER_PORTS.map((port) => `nats://127.0.0.1:${port}`).join(',');

export function natsCluster(dir: string) {
  const run = (...args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const child: ChildProcess = spawn('bash', ['scripts/nats-cluster.sh', ...args], {
        env: { ...process.env, NATS_CLUSTER_DIR: dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output = collectOutput(child);
      child.on('exit', (code) =>
        code === 0 ? resolve(output()) : reject(new Error(`${args.join(' ')}: ${output()}`)),
      );
    });
  return {
    start: () => run('start'),
    stop: () => run('stop'),
    /** Stops every node and deletes the data directory. */
    clean: () => run('clean'),
    kill: (node: number) => run('kill', String(node)),
    restart: (node: number) => run('start', String(node)),
  };
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
