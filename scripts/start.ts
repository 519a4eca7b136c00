import concurrently from 'concurrently';

type Command = { name: string; command: string };

// `npm start`: every service as its own process, logs prefixed by name, Ctrl-C stops them all.
// Without S3_ENDPOINT an embedded S3 (s3rver, data under .data/s3) is started first on port 9000.
const env = { LOG_PRETTY: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env };
const embeddedS3 = !process.env.S3_ENDPOINT;
const tsx = (file: string, extra = '') => `node ${extra} --import tsx ${file}`;

const services: Command[] = [
  { name: 'projections', command: tsx('projections/main.ts') },
  { name: 'planner', command: tsx('services/planner/main.ts') },
  { name: 'converter', command: tsx('services/converter/main.ts') },
  { name: 'denoiser', command: tsx('services/denoiser/main.ts') },
  { name: 'intake', command: tsx('services/intake/main.ts') },
  { name: 'notifier', command: tsx('services/notifier/main.ts') },
  { name: 'expiry', command: tsx('services/expiry/main.ts') },
];
const commands: Command[] = embeddedS3
  ? [
      { name: 's3', command: tsx('services/s3local/main.ts', '--openssl-legacy-provider') },
      ...services.map((service) => ({
        ...service,
        command: `node --import tsx scripts/wait-port.ts 127.0.0.1 9000 && exec ${service.command}`,
      })),
    ]
  : services;

// No automatic restarts: services reconnect by themselves, and a crash should be seen, not hidden.
const { result, commands: running } = concurrently(
  commands.map((command) => ({ ...command, env })),
  { prefix: 'name', killOthersOn: ['failure'] },
);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    for (const command of running) command.kill(signal);
  });
}
result.then(
  () => process.exit(0),
  () => process.exit(1),
);
