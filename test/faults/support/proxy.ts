import type { AddressInfo } from 'node:net';
import { createConnection, createServer, type Socket } from 'node:net';

export type TcpProxy = Awaited<ReturnType<typeof startProxy>>;

type Trap = Readonly<{ request: RegExp; afterBytes: number }>;

/**
 * A TCP proxy in front of a real dependency that the test can "unplug" (an outage without stopping
 * the shared server): `down` destroys every open connection and refuses new ones until `up`.
 * `resetResponse` cuts one HTTP response mid-transfer: the connection whose request matches is
 * destroyed once that many bytes of the answer went through (a reset S3 connection).
 */
export async function startProxy(targetPort: number, targetHost = '127.0.0.1', listenPort = 0) {
  const sockets = new Set<Socket>();
  let up = true;
  let stalled = false;
  let trap: Trap | null = null;
  let resets = 0;
  const server = createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    if (stalled) {
      // Accepted, never answered: a peer that hangs (the case only timeouts catch).
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      client.on('error', () => {});
      return;
    }
    const upstream = createConnection(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    let armed: Trap | null = null;
    let passed = 0;
    client.on('data', (chunk: Buffer) => {
      if (trap?.request.test(chunk.toString('latin1', 0, 512))) {
        armed = trap;
        trap = null;
        passed = 0;
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (armed === null) return;
      passed += chunk.length;
      if (passed >= armed.afterBytes) {
        armed = null;
        resets++;
        client.resetAndDestroy();
        upstream.destroy();
      }
    });
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    /** Cuts every open connection and refuses new ones. */
    down() {
      up = false;
      for (const socket of sockets) socket.destroy();
    },
    up() {
      up = true;
      stalled = false;
    },
    /** New connections are accepted and then left hanging, until `up`. */
    stall() {
      stalled = true;
    },
    get isUp() {
      return up;
    },
    /** The next connection whose request matches `request` is reset after `afterBytes` of its answer. */
    resetResponse(request: RegExp, afterBytes: number) {
      trap = { request, afterBytes };
    },
    get resets() {
      return resets;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
