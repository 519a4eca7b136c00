import { Command, InvalidArgumentError, Option } from 'commander';
import { CliError, createClient, EXIT_CODES, type JobBody } from './client.ts';
import { type Downloaded, downloadResults } from './download.ts';
import { createReporter, formatBytes, type ProgressMode } from './progress.ts';
import { formFields, submit } from './submit.ts';
import { waitForJob } from './wait.ts';

type GlobalOptions = { url: string; apiKey?: string; json?: boolean; progress: ProgressMode };

const program = new Command('pixtools')
  .description('Process images with a PixTools server: convert, resize, denoise, read EXIF.')
  .addOption(new Option('--url <url>', 'server URL').env('PIXTOOLS_URL').default('http://localhost:8000'))
  .addOption(new Option('--api-key <key>', 'API key (X-API-Key)').env('PIXTOOLS_API_KEY'))
  .option('--json', 'print one JSON document on stdout (no progress)')
  .addOption(
    new Option('--progress <mode>', 'progress display')
      .choices(['auto', 'bars', 'lines', 'none'])
      .default('auto'),
  )
  .showHelpAfterError();

program
  .command('process')
  .description('submit an image, show live progress, download the outputs')
  .argument('<file>', 'the image (JPEG, PNG, WebP or AVIF)')
  .option('--to <formats>', 'output formats, comma-separated (jpg,png,webp,avif)', list, [])
  .option('--resize <box>', 'fit into WIDTH, WIDTHxHEIGHT or xHEIGHT pixels (aspect kept)', resizeBox)
  .option('--quality <n>', 'jpg/webp quality 1..100', integer)
  .option('--denoise', 'denoise (DnCNN); with --to the formats are made from the denoised image')
  .option('--metadata', 'read the EXIF fields')
  .option('--webhook <url>', 'POST the outcome to this URL when the job ends')
  .option('--pipeline <file.json>', 'run this pipeline (a JSON array of steps) instead')
  .option('--idempotency-key <key>', 'reuse a key to make a retried submission return the same job')
  .option('--out <dir>', 'where to save the outputs', '.')
  .option('--archive', 'also download the ZIP of all outputs')
  .option('--no-download', 'do not download the outputs')
  .option('--no-wait', 'print the job id and return at once')
  .action(async (file: string, options: ProcessCliOptions, command: Command) => {
    const global = command.optsWithGlobals<GlobalOptions>();
    const client = clientOf(global);
    const fields = await formFields({
      to: options.to,
      resize: options.resize ?? null,
      quality: options.quality ?? null,
      denoise: options.denoise === true,
      metadata: options.metadata === true,
      webhook: options.webhook ?? null,
      pipeline: options.pipeline ?? null,
      idempotencyKey: options.idempotencyKey ?? null,
    });
    const jobId = await submit(client, file, fields, options.idempotencyKey ?? null);
    if (!options.wait) return report(global, { job_id: jobId, status: 'PENDING' }, () => console.log(jobId));
    if (!global.json) process.stderr.write(`job ${jobId} submitted\n`);
    const job = await waitForJob(client, jobId, createReporter(global.json ? 'none' : global.progress));
    await finish(global, job, options.download ? options.out : null, options.archive === true);
  });

program
  .command('status')
  .description("print a job's status, steps and links")
  .argument('<job-id>')
  .action(async (jobId: string, _options: unknown, command: Command) => {
    const global = command.optsWithGlobals<GlobalOptions>();
    const job = await clientOf(global).job(jobId);
    report(global, job, () => printJob(job, []));
  });

program
  .command('wait')
  .description('follow a job live until it ends; exit status 1 when it failed')
  .argument('<job-id>')
  .option('--out <dir>', 'download the outputs here when it completes')
  .action(async (jobId: string, options: { out?: string }, command: Command) => {
    const global = command.optsWithGlobals<GlobalOptions>();
    const job = await waitForJob(
      clientOf(global),
      jobId,
      createReporter(global.json ? 'none' : global.progress),
    );
    await finish(global, job, options.out ?? null, false);
  });

program
  .command('download')
  .description("save a job's outputs")
  .argument('<job-id>')
  .option('--out <dir>', 'where to save the outputs', '.')
  .option('--archive', 'also download the ZIP of all outputs')
  .action(async (jobId: string, options: { out: string; archive?: boolean }, command: Command) => {
    const global = command.optsWithGlobals<GlobalOptions>();
    const job = await clientOf(global).job(jobId);
    if (job.status !== 'COMPLETED' && job.status !== 'COMPLETED_WEBHOOK_FAILED' && job.status !== 'FAILED') {
      throw new CliError(
        'refused',
        `Job ${jobId} is ${job.status}; wait for it first (pixtools wait ${jobId})`,
      );
    }
    const files = await downloadResults(job, options.out, options.archive === true);
    report(global, { ...job, files }, () => printJob(job, files));
  });

type ProcessCliOptions = {
  to: string[];
  resize?: { width?: number; height?: number };
  quality?: number;
  denoise?: boolean;
  metadata?: boolean;
  webhook?: string;
  pipeline?: string;
  idempotencyKey?: string;
  out: string;
  archive?: boolean;
  download: boolean;
  wait: boolean;
};

async function finish(global: GlobalOptions, job: JobBody, out: string | null, archive: boolean) {
  const files = out !== null && job.status !== 'FAILED' ? await downloadResults(job, out, archive) : [];
  report(global, { ...job, files }, () => printJob(job, files));
  if (job.status === 'FAILED')
    throw new CliError('failed', job.error_message ?? 'The job failed', null, true);
  if (job.status === 'PENDING' || job.status === 'PROCESSING') {
    throw new CliError('unavailable', `Job ${job.job_id} is still ${job.status}`);
  }
}

function report(global: GlobalOptions, body: unknown, human: () => void) {
  if (global.json) process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  else human();
}

function printJob(job: JobBody, files: readonly Downloaded[]) {
  console.log(`job ${job.job_id} ${job.status}${job.expired ? ' (expired)' : ''}`);
  for (const step of job.steps) {
    const output = step.output ? ` ${step.output.format} ${formatBytes(step.output.bytes)}` : '';
    const took = step.duration_ms === null ? '' : ` ${Math.round(step.duration_ms)} ms`;
    console.log(
      `  ${step.id.padEnd(10)} ${step.status}${took}${output}${step.error ? ` — ${step.error}` : ''}`,
    );
  }
  for (const file of files) console.log(`  saved ${file.file} (${formatBytes(file.bytes)})`);
  if (job.error_message) console.log(`  error: ${job.error_message}`);
}

function clientOf(global: GlobalOptions) {
  return createClient({ url: global.url, apiKey: global.apiKey ?? null });
}

function list(value: string, previous: string[]): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((item) => item.trim().toLowerCase())
      .filter(Boolean),
  ].map((item) => (item === 'jpeg' ? 'jpg' : item));
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('not an integer');
  return n;
}

function resizeBox(value: string): { width?: number; height?: number } {
  const match = /^(\d+)?(?:x(\d+))?$/i.exec(value.trim());
  if (match === null || (match[1] === undefined && match[2] === undefined)) {
    throw new InvalidArgumentError('use WIDTH, WIDTHxHEIGHT or xHEIGHT, e.g. 1280 or 1280x720');
  }
  return {
    ...(match[1] === undefined ? {} : { width: Number(match[1]) }),
    ...(match[2] === undefined ? {} : { height: Number(match[2]) }),
  };
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const failure = error instanceof CliError ? error : new CliError('unavailable', (error as Error).message);
  if (program.opts<GlobalOptions>().json && !failure.reported) {
    process.stdout.write(`${JSON.stringify({ detail: failure.message })}\n`);
  }
  process.stderr.write(`pixtools: ${failure.message}\n`);
  process.exitCode = EXIT_CODES[failure.kind];
}
