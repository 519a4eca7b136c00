import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '..');
const READERS = /\b(?:str|optionalStr|int|bool|list|intList)\(\s*env,\s*'([A-Z][A-Z0-9_]*)'/g;
const DIRECT = /\benv(?:\.([A-Z][A-Z0-9_]*)|\[\s*'([A-Z][A-Z0-9_]*)'\s*\])/g;

/** Every environment variable some `config.ts` (or shared/config) reads, found in their source. */
function namesRead(): Set<string> {
  const files = ['services', 'projections']
    .flatMap((dir) =>
      readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)),
    )
    .filter((file) => path.basename(file) === 'config.ts');
  files.push(
    ...readdirSync(path.join(ROOT, 'shared/config')).map((file) => path.join('shared/config', file)),
  );
  const names = new Set<string>();
  for (const file of files.filter((name) => name.endsWith('.ts') && !name.includes('.spec.'))) {
    const source = readFileSync(path.join(ROOT, file), 'utf8');
    for (const match of source.matchAll(READERS)) if (match[1]) names.add(match[1]);
    for (const match of source.matchAll(DIRECT)) {
      const name = match[1] ?? match[2];
      if (name) names.add(name);
    }
  }
  return names;
}

type Found = { where: string; name: string };

/** Variables compose.yaml sets on the PixTools services (those built from the Dockerfile). */
function composeNames(): Found[] {
  const compose = parseYaml(readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<
      string,
      { image?: string; build?: unknown; environment?: Record<string, unknown> | string[] }
    >;
  };
  return Object.entries(compose.services)
    .filter(([, service]) => service.build !== undefined)
    .flatMap(([name, service]) =>
      envKeys(service.environment).map((key) => ({ where: `compose ${name}`, name: key })),
    );
}

function envKeys(environment: Record<string, unknown> | string[] | undefined): string[] {
  if (environment === undefined) return [];
  if (Array.isArray(environment)) return environment.map((entry) => entry.split('=')[0] ?? '');
  return Object.keys(environment);
}

type K8sDoc = {
  kind?: string;
  metadata?: { name?: string };
  data?: Record<string, unknown>;
  stringData?: Record<string, unknown>;
  spec?: {
    template?: { spec?: { containers?: { name: string; image?: string; env?: { name: string }[] }[] } };
  };
};

/** Variables the Kubernetes manifests set: container `env` and the keys of the ConfigMap and Secret. */
function manifestNames(): Found[] {
  const dir = path.join(ROOT, 'deploy/kubernetes');
  const found: Found[] = [];
  for (const file of readdirSync(dir).filter(
    (name) => name.endsWith('.yaml') && name !== 'kustomization.yaml',
  )) {
    for (const document of parseAllDocuments(readFileSync(path.join(dir, file), 'utf8'))) {
      const doc = document.toJS() as K8sDoc | null;
      if (doc === null) continue;
      const where = `${file} ${doc.kind} ${doc.metadata?.name}`;
      if (doc.kind === 'ConfigMap' || doc.kind === 'Secret') {
        for (const key of Object.keys({ ...doc.data, ...doc.stringData })) found.push({ where, name: key });
      }
      for (const container of doc.spec?.template?.spec?.containers ?? []) {
        for (const entry of container.env ?? [])
          found.push({ where: `${where}/${container.name}`, name: entry.name });
      }
    }
  }
  return found;
}

describe('deployment files set only environment variables the services read', () => {
  const read = namesRead();

  it('finds the names the config modules read', () => {
    for (const name of [
      'NATS_URL',
      'DATABASE_URL',
      'RABBITMQ_URL',
      'WEBHOOK_SECRET',
      'PORT',
      'EXPIRY_INTERVAL_MS',
    ]) {
      assert.ok(read.has(name), `${name} is read by a config.ts`);
    }
    assert.ok(!read.has('AMQP_URL'), 'nothing reads AMQP_URL');
  });

  it('compose.yaml', () => {
    const found = composeNames();
    assert.ok(found.length >= 9 * 7, `every service gets the shared environment (${found.length})`);
    assert.deepEqual(
      found.filter(({ name }) => !read.has(name)),
      [],
      'variables set in compose.yaml that no config.ts reads',
    );
    const services = new Set(found.map(({ where }) => where));
    assert.ok(services.has('compose expiry'), 'the expiry service runs in compose');
  });

  it('compose.yaml sets a WEBHOOK_SECRET the notifier accepts (≥ 16 characters)', () => {
    const compose = parseYaml(readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as {
      services: { notifier: { environment: Record<string, string> } };
    };
    assert.ok((compose.services.notifier.environment.WEBHOOK_SECRET ?? '').length >= 16);
  });

  it('the Kubernetes manifests', () => {
    const found = manifestNames();
    assert.ok(found.length > 10, `manifests set variables (${found.length})`);
    assert.deepEqual(
      found.filter(({ name }) => !read.has(name)),
      [],
      'variables set in deploy/kubernetes that no config.ts reads',
    );
  });
});
