import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Received = Readonly<{ path: string; headers: IncomingHttpHeaders; body: string; at: number }>;
/** How the sink answers the `nth` (1-based) request on a path. */
export type Answer = Readonly<{ status: number; delayMs?: number; headers?: Record<string, string> }>;
export type Behaviour = (nth: number, request: Received) => Answer;

export type Sink = Awaited<ReturnType<typeof startSink>>;

/** A real HTTP receiver on 127.0.0.1 that records every request and answers per path as told. */
export async function startSink(behaviours: Record<string, Behaviour> = {}) {
  const received: Received[] = [];
  const answered: { path: string; status: number; at: number }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      received.push(request);
      const nth = received.filter((r) => r.path === request.path).length;
      const answer: Answer = (behaviours[request.path] ?? always(200))(nth, request);
      setTimeout(() => {
        if (res.destroyed || res.socket === null || res.socket.destroyed) return; // the caller hung up
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers }).end('ok');
        answered.push({ path: request.path, status: answer.status, at: Date.now() });
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    received,
    answered,
    on: (path: string, behaviour: Behaviour) => {
      behaviours[path] = behaviour;
    },
    requests: (path: string) => received.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const always =
  (status: number, delayMs = 0): Behaviour =>
  () => ({ status, delayMs });
