import { connect } from 'node:net';

// Waits (up to 30 s) until host:port accepts TCP connections. Usage: wait-port.ts HOST PORT
const [host = '127.0.0.1', port = '0'] = process.argv.slice(2);
const deadline = Date.now() + 30_000;
for (;;) {
  const open = await new Promise<boolean>((resolve) => {
    const socket = connect(Number(port), host, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
  if (open) break;
  if (Date.now() > deadline) {
    console.error(`timed out waiting for ${host}:${port}`);
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}
