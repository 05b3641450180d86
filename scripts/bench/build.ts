/** The exporter under test: a snapshot of dist/, or a commit compiled apart. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, readdir, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BENCH_DIR, ROOT, git, log } from './common.js';

export interface BuildUnderTest {
  cli: string;
  hash: string;
  dir: string;
}

/**
 * dist/ is shared with whoever runs `npm run build` (tests do too), so the exporter and the simulator run
 * from a copy taken at the start, named by a hash of its content: every run of one invocation measures
 * the same build, and two results with the same hash measured the same code.
 */
export async function snapshotDist(): Promise<BuildUnderTest> {
  const dist = join(ROOT, 'dist');
  const files = (await readdir(dist, { recursive: true })).filter((f) => f.endsWith('.js')).sort();
  const hash = createHash('sha256');
  for (const f of files) {
    hash.update(f + '\0');
    hash.update(await readFile(join(dist, f)));
  }
  const id = hash.digest('hex').slice(0, 12);
  const dir = join(BENCH_DIR, 'build', id);
  if (!existsSync(join(dir, 'dist', 'cli.js'))) {
    const partial = `${dir}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    await cp(dist, join(partial, 'dist'), { recursive: true });
    await cp(join(ROOT, 'package.json'), join(partial, 'package.json'));
    await rm(dir, { recursive: true, force: true });
    await cp(partial, dir, { recursive: true });
    await rm(partial, { recursive: true, force: true });
  }
  return { cli: join(dir, 'dist', 'cli.js'), hash: id, dir };
}

/**
 * Compiles commit `sha`'s src/ on its own (git archive + tsc) into .bench/build/src-ID/, where ID names
 * the content (src/ tree, tsconfig.json and package.json), so commits that leave src/ alone share a build.
 */
export async function buildCommit(sha: string): Promise<BuildUnderTest> {
  const ids = git(['rev-parse', `${sha}:src`, `${sha}:tsconfig.json`, `${sha}:package.json`]);
  const id = createHash('sha256').update(ids).digest('hex').slice(0, 12);
  const dir = join(BENCH_DIR, 'build', `src-${id}`);
  if (!existsSync(join(dir, 'dist', 'cli.js'))) {
    const partial = `${dir}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${sha} src tsconfig.json package.json | tar -x -C "${partial}"`], {
      cwd: ROOT,
    });
    await symlink(join(ROOT, 'node_modules'), join(partial, 'node_modules'));
    log(`compiling ${sha.slice(0, 12)} apart in ${partial.replace(ROOT + '/', '')}`);
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(partial, 'tsconfig.json')],
      { cwd: partial, stdio: ['ignore', process.stderr, process.stderr] },
    );
    await rm(dir, { recursive: true, force: true });
    await rename(partial, dir);
  }
  return { cli: join(dir, 'dist', 'cli.js'), hash: `src-${id}`, dir };
}

/** Whether the build in `dir` mentions `text` (a setting name) in any of its compiled files. */
export function buildKnows(dir: string, text: string): boolean {
  try {
    execFileSync('grep', ['-rqF', '--include=*.js', text, join(dir, 'dist')], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
