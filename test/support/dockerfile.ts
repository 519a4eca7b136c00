import { cpSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';

/** One instruction of a Dockerfile, continuation lines joined. */
export type Instruction = Readonly<{ keyword: string; args: string }>;
export type Stage = Readonly<{ name: string; instructions: readonly Instruction[] }>;

/** The stages of a Dockerfile, in order (comments and parser directives dropped). */
export function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const stages: { name: string; instructions: Instruction[] }[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') {
      const name = rest[2]; // FROM <image> AS <name>
      stages.push({ name: name ?? String(stages.length), instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

/** A `COPY`: its flags (`--from=deps` → `{ from: 'deps' }`), sources and destination. */
export function parseCopy(args: string): { flags: Record<string, string>; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags: Record<string, string> = {};
  while (words[0]?.startsWith('--')) {
    const [key = '', value = ''] = (words.shift() ?? '').slice(2).split('=');
    flags[key] = value;
  }
  const dest = words.pop() ?? '';
  return { flags, sources: words, dest };
}

/** `ENV a=b c=d` as a record (the `key=value` form only). */
export function parseEnv(args: string): Record<string, string> {
  return Object.fromEntries(
    args
      .split(/\s+/)
      .filter((word) => word.includes('='))
      .map((word) => {
        const at = word.indexOf('=');
        return [word.slice(0, at), word.slice(at + 1)];
      }),
  );
}

/** The patterns of a `.dockerignore`: a path prefix, or a basename glob (`*.log`) when it has no slash. */
export function dockerIgnore(root: string): (relative: string) => boolean {
  const patterns = readFileSync(path.join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const globs = patterns
    .filter((pattern) => pattern.includes('*') && !pattern.includes('/'))
    .map((pattern) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`));
  const prefixes = patterns.filter((pattern) => !pattern.includes('*'));
  return (relative) =>
    prefixes.some((prefix) => relative === prefix || relative.startsWith(`${prefix}/`)) ||
    globs.some((glob) => glob.test(path.basename(relative)));
}

/**
 * `COPY <sources> <dest>` from `context` (the build context, or another stage's folder) into `dir` (the
 * stage's WORKDIR), minus ignored paths. As Docker does: a directory's contents go into `dest`; a file
 * goes to `dest`, or into it when `dest` ends with a slash or there are several sources.
 */
export function copyInto(
  context: string,
  dir: string,
  sources: readonly string[],
  dest: string,
  ignored: (relative: string) => boolean = () => false,
): void {
  for (const source of sources) {
    const from = path.join(context, source);
    const into = statSync(from).isFile() && (dest.endsWith('/') || sources.length > 1);
    const target = path.resolve(dir, into ? path.join(dest, path.basename(source)) : dest);
    mkdirSync(path.dirname(target), { recursive: true });
    cpSync(from, target, {
      recursive: true,
      verbatimSymlinks: true,
      filter: (file) => !ignored(path.relative(context, file)),
    });
  }
}

/** A stage's `node_modules` taken from another directory (a full install from the same lock file). */
export function linkNodeModules(from: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  symlinkSync(path.join(from, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
}
