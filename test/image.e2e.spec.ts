import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import {
  copyInto,
  dockerIgnore,
  linkNodeModules,
  parseCopy,
  parseDockerfile,
  parseEnv,
  type Stage,
} from './support/dockerfile.ts';
import { samplePng } from './support/images.ts';
import { type ServiceName, type System, startSystem } from './support/system.ts';

// The image as `docker build` would make it, without Docker (none on CI machines): each stage of the
// Dockerfile is carried out in a folder of its own (its COPYs from the build context, minus
// .dockerignore; its RUNs), then every PixTools service of compose.yaml runs from the runtime stage
// with the command compose gives it: plain `node`, no TypeScript loader, the image's ENV.
// Two liberties, both named where they are taken: the build stage's full `npm ci` is the checkout's own
// node_modules (installed from the same lock file), and the runtime stage's ownership changes are not
// made (the image's `node` user exists only in the image).

const ROOT = path.resolve(import.meta.dirname, '..');
const stages = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const ignored = dockerIgnore(ROOT);
const work = mkdtempSync(path.join(tmpdir(), 'pixtools-image-'));

/** A stage's folder for a path inside it (an absolute path in the image → under the stage's folder). */
const inStage = (stage: string, where: string) => path.join(work, stage, where);

/** Carries out one stage; returns its working directory and the ENV it declared. */
function build(stage: Stage): { dir: string; env: Record<string, string> } {
  let dir = inStage(stage.name, '/');
  const env: Record<string, string> = {};
  for (const { keyword, args } of stage.instructions) {
    if (keyword === 'WORKDIR') {
      dir = inStage(stage.name, args);
      mkdirSync(dir, { recursive: true });
    } else if (keyword === 'ENV') {
      Object.assign(env, parseEnv(args));
    } else if (keyword === 'COPY') {
      const { flags, sources, dest } = parseCopy(args);
      if (flags.from === undefined) copyInto(ROOT, dir, sources, dest, ignored);
      else copyInto(inStage(flags.from, '/'), dir, sources, dest);
    } else if (keyword === 'RUN') {
      if (/^npm ci\b/.test(args) && !args.includes('--omit=dev')) {
        linkNodeModules(ROOT, dir); // the full install: the checkout's own, from the same lock file
        continue;
      }
      const commands =
        stage === runtime ? args.split('&&').filter((part) => part.trim().startsWith('mkdir')) : [args];
      for (const command of commands) {
        // A build sees only the image's environment (no ONNXRUNTIME_NODE_INSTALL from .ci/run, say).
        try {
          execFileSync('sh', ['-c', command], {
            cwd: dir,
            env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
        } catch (error) {
          const { stderr } = error as { stderr?: Buffer };
          throw new Error(`stage ${stage.name}: RUN ${command} failed:\n${stderr?.toString() ?? error}`);
        }
      }
    }
  }
  return { dir, env };
}

const runtime = stages.at(-1) as Stage;

type ComposeService = { build?: unknown; command?: string[] };
const compose = parseYaml(readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
/** compose.yaml's PixTools services (built from the Dockerfile) and their commands. */
const built = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);

describe('the container image, built from the Dockerfile without Docker, runs what compose.yaml runs', () => {
  let app: string;
  let imageEnv: Record<string, string>;
  let system: System;

  before(async () => {
    for (const stage of stages.slice(0, -1)) build(stage);
    const out = build(runtime);
    app = out.dir;
    imageEnv = out.env;
  });
  after(async () => {
    await system?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('installs with the project’s npm settings: no GPU runtime fetched into the image', () => {
    for (const stage of stages) {
      const install = stage.instructions.findIndex(
        ({ keyword, args }) => keyword === 'RUN' && /npm ci\b/.test(args),
      );
      if (install < 0) continue;
      const copied = stage.instructions
        .slice(0, install)
        .filter(({ keyword }) => keyword === 'COPY')
        .flatMap(({ args }) => parseCopy(args).sources);
      assert.ok(copied.includes('.npmrc'), `stage ${stage.name} runs npm ci without the project's .npmrc`);
    }
    assert.match(readFileSync(path.join(ROOT, '.npmrc'), 'utf8'), /^onnxruntime-node-install=skip$/m);
    // Without it, onnxruntime-node's install script downloads the CUDA provider from NuGet (or fails
    // where NuGet cannot be reached).
    const bin = path.join(app, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64');
    const files = readdirSync(bin);
    assert.ok(files.includes('onnxruntime_binding.node'), 'the CPU runtime is there');
    assert.deepEqual(
      files.filter((file) => file.includes('providers')),
      [],
      'no CUDA or TensorRT provider in the image',
    );
    assert.ok(
      !existsSync(path.join(app, 'node_modules/typescript')),
      'the runtime has production dependencies only',
    );
  });

  it('starts every compose service from the compiled layout and completes a conversion and a denoise', async () => {
    const names = built.map(([name]) => name as ServiceName);
    assert.deepEqual([...names].sort(), [
      'converter',
      'denoiser',
      'expiry',
      'intake',
      'notifier',
      'planner',
      'projections',
    ]);
    const commands = new Map(built.map(([name, service]) => [name, service.command ?? []]));
    for (const [name, command] of commands) {
      assert.equal(command[0], 'node', `${name} runs node`);
      assert.ok(
        existsSync(path.join(app, command.at(-1) ?? '')),
        `${name}: ${command.at(-1)} is in the image`,
      );
    }
    system = await startSystem(
      { ...imageEnv, WEBHOOK_SECRET: 'image-test-webhook-secret' },
      ['projections', ...names.filter((name) => name !== 'projections')],
      (name) => {
        const command = commands.get(name) ?? [];
        return { entry: command.at(-1) ?? '', nodeFlags: command.slice(1, -1), loader: false, cwd: app };
      },
    );
    const form = new FormData();
    form.set('file', new Blob([new Uint8Array(await samplePng(96, 64))], { type: 'image/png' }), 'photo.png');
    form.set('operations', '["webp","denoise"]');
    const response = await fetch(`${system.url}/api/process`, { method: 'POST', body: form });
    assert.equal(response.status, 202, await response.clone().text());
    const { job_id: jobId } = (await response.json()) as { job_id: string };
    type Job = { status: string; result_urls: Record<string, string>; archive_url: string | null };
    let job: Job | undefined;
    for (let tries = 0; tries < 600 && !['COMPLETED', 'FAILED'].includes(job?.status ?? ''); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = (await (await fetch(`${system.url}/api/jobs/${jobId}`)).json()) as Job;
    }
    assert.equal(job?.status, 'COMPLETED', JSON.stringify(job));
    const webp = await fetch(job?.result_urls.webp ?? '');
    assert.equal((await sharp(Buffer.from(await webp.arrayBuffer())).metadata()).format, 'webp');
    const denoised = await fetch(job?.result_urls.denoise ?? '');
    const meta = await sharp(Buffer.from(await denoised.arrayBuffer())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 96, 64]);
    const archive = Buffer.from(await (await fetch(job?.archive_url ?? '')).arrayBuffer());
    assert.equal(archive.subarray(0, 4).toString('hex'), '504b0304', 'the archive is a ZIP');
  });

  it("runs the Kubernetes manifests' commands: the same entry points as compose, node flags it accepts", () => {
    type Doc = { spec?: { template?: { spec?: { containers?: { name: string; command?: string[] }[] } } } };
    const containers = readdirSync(path.join(ROOT, 'deploy/kubernetes'))
      .filter((file) => file.endsWith('.yaml'))
      .flatMap((file) =>
        parseAllDocuments(readFileSync(path.join(ROOT, 'deploy/kubernetes', file), 'utf8')).map(
          (doc) => doc.toJS() as Doc | null,
        ),
      )
      .flatMap((doc) => doc?.spec?.template?.spec?.containers ?? []);
    assert.deepEqual(
      containers.map(({ name }) => name).sort(),
      built.map(([name]) => name).sort(),
      'one container per compose service',
    );
    for (const { name, command = [] } of containers) {
      assert.deepEqual(command, compose.services[name]?.command, `${name}: the same command as compose`);
      // The flags are ones this node accepts, and the entry is in the image.
      execFileSync(process.execPath, [...command.slice(1, -1), '-e', '0']);
      assert.ok(existsSync(path.join(app, command.at(-1) ?? '')), `${name}: ${command.at(-1)}`);
    }
  });

  it('serves the page, the interactive docs and the OpenAPI document from the image', async () => {
    const page = await fetch(`${system.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>PixTools/);
    const docs = await fetch(`${system.url}/docs`);
    assert.equal(docs.status, 200);
    for (const asset of (await docs.text()).matchAll(/(?:src|href)="(\/docs\/[^"]+)"/g)) {
      const answer = await fetch(`${system.url}${asset[1]}`);
      assert.equal(answer.status, 200, asset[1]);
      await answer.arrayBuffer();
    }
    const spec = (await (await fetch(`${system.url}/docs/openapi.json`)).json()) as { openapi?: string };
    assert.match(spec.openapi ?? '', /^3\./);
    const metrics = await fetch(`${system.url}/metrics`);
    assert.match(await metrics.text(), /^pixtools_/m);
  });
});
