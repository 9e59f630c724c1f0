// Whether dist/ is the build of the sources as they are now, so `npm start` compiles only when needed.
//
// The build's inputs are every file under src/, adapters/ and dialogs/, the tsconfig files,
// package.json, package-lock.json and the build scripts. Their fingerprint (path, size and mtime of
// each) is taken when a build starts (`begin`, which also empties dist/) and becomes dist/.build-stamp
// when it has finished (`done`); a build that fails leaves no stamp. `ensure` (npm's prestart) runs
// `npm run build` unless the stamp matches the inputs now: a changed, added or removed file rebuilds.
//
// Usage: node scripts/build-stamp.mjs begin|done|ensure|check   (in the project folder)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const SOURCE_DIRS = ['src', 'adapters', 'dialogs'];
const ROOT_FILES = /^(tsconfig.*\.json|package\.json|package-lock\.json)$/;
const SCRIPT_FILES = ['scripts/build-stamp.mjs', 'scripts/copy-build-assets.mjs', 'scripts/make-bin-executable.mjs'];
export const STAMP = path.join('dist', '.build-stamp');
const PENDING = path.join('dist', '.build-stamp.pending');

/** The build's input files, relative to `root`, sorted. */
export function buildInputs(root) {
  const files = fs.readdirSync(root).filter((f) => ROOT_FILES.test(f));
  for (const dir of SOURCE_DIRS) {
    if (!fs.existsSync(path.join(root, dir))) continue;
    for (const entry of fs.readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) files.push(path.relative(root, path.join(entry.parentPath ?? entry.path, entry.name)));
    }
  }
  for (const file of SCRIPT_FILES) if (fs.existsSync(path.join(root, file))) files.push(file);
  return files.map((f) => f.split(path.sep).join('/')).sort();
}

/** One line per input file (path, size, mtime in ms), hashed: any change to an input changes it. */
export function fingerprint(root) {
  const hash = createHash('sha256');
  for (const file of buildInputs(root)) {
    const stat = fs.statSync(path.join(root, file));
    hash.update(`${file}\t${stat.size}\t${Math.trunc(stat.mtimeMs)}\n`);
  }
  return hash.digest('hex');
}

/** Why dist/ must be built again, or undefined when its stamp matches the inputs. */
export function staleReason(root) {
  let stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(path.join(root, STAMP), 'utf8'));
  } catch {
    return 'no finished build in dist/';
  }
  if (!fs.existsSync(path.join(root, 'dist/src/cli/main.js'))) return 'dist/ has no CLI';
  if (stamp.fingerprint !== fingerprint(root)) return 'sources changed since the last build';
  return undefined;
}

function begin(root) {
  fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
  fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(root, PENDING), JSON.stringify({ fingerprint: fingerprint(root) }) + '\n');
}

function done(root) {
  // The fingerprint of when the build started: a file edited during the build rebuilds next time.
  fs.renameSync(path.join(root, PENDING), path.join(root, STAMP));
}

function ensure(root) {
  const reason = staleReason(root);
  if (reason === undefined) {
    process.stdout.write('dist/ is up to date with the sources; not rebuilding\n');
    return 0;
  }
  process.stdout.write(`Building (${reason})…\n`);
  // Under npm, npm_execpath is npm's own script: run it with this node, whatever is on PATH.
  const npm = process.env.npm_execpath;
  const result = npm && /\.[cm]?js$/.test(npm) ? spawnSync(process.execPath, [npm, 'run', 'build'], { cwd: root, stdio: 'inherit' }) : spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.error) {
    process.stderr.write(`could not run npm run build: ${result.error.message}\n`);
    return 1;
  }
  return result.status ?? 1;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const root = process.cwd();
  const command = process.argv[2];
  if (command === 'begin') begin(root);
  else if (command === 'done') done(root);
  else if (command === 'ensure') process.exitCode = ensure(root);
  else if (command === 'check') {
    const reason = staleReason(root);
    process.stdout.write(reason === undefined ? 'up to date\n' : `stale: ${reason}\n`);
    process.exitCode = reason === undefined ? 0 : 1;
  } else {
    process.stderr.write('usage: node scripts/build-stamp.mjs begin|done|ensure|check\n');
    process.exitCode = 2;
  }
}
