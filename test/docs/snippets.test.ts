/**
 * The code in README.md and docs/*.md works as written: every fenced block whose language is `ts` or
 * `js` is type-checked, and run, against this repository's sources, the way a developer uses the
 * package (`import … from 'botbuilder-handoff-adapters'`). Shell blocks and others are not code.
 *
 * The info string is the language, then flags:
 *
 *   ```ts               a complete program: type-checked, then run with node. It passes when it exits 0
 *                       by itself, or when it prints a line containing "listening on" (any case: the
 *                       banners do; a program with its own server prints one) and then exits 0 on SIGTERM.
 *   ```js bot-module    a module for `handoff serve --bot`: type-checked, then served by the real command
 *                       line (`handoff serve --bot ./<file>`); passes like a program that listens.
 *   ```ts fragment      part of a program: type-checked only (never run), with the names of
 *                       FRAGMENT_GLOBALS declared for it (unless it declares them itself). TypeScript only.
 *   configured          run as a configured installation instead of in sandbox mode: Nimchat, WOZTELL and
 *                       Inbenta credentials (CONFIGURED_ENV) that point nowhere; nothing is contacted
 *                       at start. For programs that need a platform configured (your own web server with
 *                       `serve(bot, { listen: false })`: in sandbox mode the emulated Inbenta checks the
 *                       webhook URL while serve() starts, before your server can route to it).
 *   env:NAME=value      a variable for the run (any number of them).
 *
 * How:
 * - The package is laid out in a temporary folder as `npm run build` lays out dist/: the sources
 *   transpiled one by one by esbuild (no type-check: that is the program below), the .cjs assets, and
 *   a package.json with the repository's name, `exports` and `bin` (the dist/ prefix dropped), its
 *   node_modules a link to the repository's. The snippets are written under that folder, so
 *   'botbuilder-handoff-adapters' and its subpaths resolve through the package's own exports map (a
 *   package may import itself by name), and botbuilder & co. through the repository's node_modules: for
 *   require() and import alike, as in a bot's folder. (Not dist/: it may be older than the sources. Not
 *   vite-node: the command line's import() of an ES bot module fails in its vm context, and each start
 *   transforms the sources again.)
 * - Type-check: one TypeScript program over every snippet (ES modules with top-level await, strict),
 *   the package's entry points mapped to the repository's sources (`paths`).
 * - Run: TypeScript is transpiled to an ES module (.mjs); JavaScript runs as written (.mjs when it uses
 *   import/export, else CommonJS). The environment is a fresh machine's: no platform variables and
 *   NODE_ENV unset (sandbox mode), PORT=0 (free ports), HOST=127.0.0.1, STORAGE_URL=memory:,
 *   LOG_LEVEL=warn. Two processes at a time (2-core machines).
 * - Also checked: every relative link of those files names a file that exists, and a heading (or an
 *   `id`) that exists in it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { transformSync } from 'esbuild';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const DOCS = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const LANGUAGES: Record<string, 'ts' | 'js'> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js' };
const READY = /listening on/i;
/** After the ready line, before SIGTERM: the banner is printed just before the signal handlers are installed. */
const READY_GRACE_MS = 500;
const READY_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 20_000;
const PARALLEL = 2;

/** What a fragment may use without declaring it (the parts a composition around it would hold). */
const FRAGMENT_GLOBALS: Record<string, string> = {
  runtime: "import('botbuilder-handoff-adapters/advanced').PipelineRuntime",
  transcripts: "import('botbuilder-handoff-adapters/advanced').TranscriptStore",
  dialogs: "import('botbuilder-dialogs').DialogSet",
  adapter: "import('botbuilder-handoff-adapters').NimchatAdapter",
  nimchatAdapter: "import('botbuilder-handoff-adapters').NimchatAdapter",
  woztellAdapter: "import('botbuilder-handoff-adapters').WoztellAdapter",
  logic: "import('botbuilder-handoff-adapters').BotLogic",
  context: "import('botbuilder').TurnContext",
  app: "import('botbuilder-handoff-adapters').App",
  apiKey: 'string',
  apiSecret: 'string',
  webhookSecret: 'string',
};

/** A configured installation whose platforms are nowhere (`configured`): no sandbox, and nothing contacted at start. */
const CONFIGURED_ENV: Record<string, string> = {
  NIMCHAT_BASE_URL: 'http://127.0.0.1:9',
  NIMCHAT_BOT_TOKEN: 'bot-token',
  WOZTELL_ACCESS_TOKEN: 'woztell-token',
  WOZTELL_CHANNEL_SECRET: 'channel-secret',
  INBENTA_API_KEY: 'inbenta-key',
  INBENTA_API_SECRET: 'inbenta-secret',
  INBENTA_WEBHOOK_SECRET: 'inbenta-webhook-secret',
};

/** JavaScript has no annotations: its implicit `any`s are not errors a snippet could fix. */
const IMPLICIT_ANY = new Set([7005, 7006, 7008, 7011, 7019, 7031, 7034]);

interface Snippet {
  /** `docs/getting-started.md:42` (the opening fence). */
  where: string;
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: 'ts' | 'js';
  kind: 'program' | 'bot-module' | 'fragment';
  env: Record<string, string>;
  code: string;
  /** Info-string words this test does not understand (a typo must not change what is checked). */
  unknown: string[];
  /** Set by prepare(). */
  checkedFile?: string;
  /** Lines added in front of the code in checkedFile. */
  offset?: number;
  runFile?: string;
}

// ---------------------------------------------------------------- reading the documents

function fencedBlocks(doc: string): Array<{ line: number; info: string; code: string }> {
  const lines = fs.readFileSync(path.join(ROOT, doc), 'utf8').split('\n');
  const blocks: Array<{ line: number; info: string; code: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)(`{3,}|~{3,})(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open as unknown as [string, string, string, string];
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = new RegExp(`^ *${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`).exec(lines[j]!);
      if (close) break;
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!.trimStart());
    }
    blocks.push({ line: i + 1, info: info.trim(), code: body.join('\n') + '\n' });
    i = j;
  }
  return blocks;
}

function collectSnippets(): Snippet[] {
  const snippets: Snippet[] = [];
  for (const doc of DOCS) {
    for (const block of fencedBlocks(doc)) {
      const [language = '', ...words] = block.info.split(/\s+/);
      const lang = LANGUAGES[language.toLowerCase()];
      if (!lang) continue;
      const snippet: Snippet = { where: `${doc}:${block.line}`, doc, line: block.line, lang, kind: 'program', env: {}, code: block.code, unknown: [] };
      for (const word of words) {
        const env = /^env:([A-Z_][A-Z0-9_]*)=(.*)$/.exec(word);
        if (env) snippet.env[env[1]!] = env[2]!;
        else if (word === 'fragment' || word === 'bot-module') snippet.kind = word;
        else if (word === 'configured') Object.assign(snippet.env, CONFIGURED_ENV);
        else snippet.unknown.push(word);
      }
      if (snippet.kind === 'fragment' && lang === 'js') snippet.unknown.push('fragment (JavaScript fragments cannot be type-checked in a wrapper: write it in ts)');
      snippets.push(snippet);
    }
  }
  return snippets;
}

const snippets = collectSnippets();
const fileStem = (s: Snippet) => `${s.doc.replace(/[^a-z0-9]+/gi, '_')}_${s.line}`;
const usesEsm = (code: string) => /^\s*(import\s[^(]|export\s)/m.test(code);

// ---------------------------------------------------------------- the package, the snippets, the program

let work = '';
let pkg = '';
let bin = '';
let globalProblems: string[] = [];
const problems = new Map<Snippet, string[]>();

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return file === path.join('src', 'console', 'client') ? [] : sourceFiles(file);
    return /\.(ts|cjs)$/.test(file) && !file.endsWith('.d.ts') ? [file] : [];
  });
}

/** The repository's package as `npm run build` lays it out, from the sources as they are now. */
function layOutPackage(): Record<string, string> {
  const target = (ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile).config as { compilerOptions: { target: string } }).compilerOptions.target;
  for (const file of ['src', 'adapters', 'dialogs'].flatMap(sourceFiles)) {
    const out = path.join(pkg, file.replace(/\.ts$/, '.js'));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
    if (file.endsWith('.cjs')) {
      fs.writeFileSync(out, source);
      continue;
    }
    // As tsc's CommonJS output: import() becomes require() too (the command line loads its commands so).
    const { code } = transformSync(source, { loader: 'ts', format: 'cjs', platform: 'node', target: 'node20', sourcefile: file, supported: { 'dynamic-import': false }, tsconfigRaw: { compilerOptions: { target } } });
    fs.writeFileSync(out, code);
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; exports: Record<string, string | Record<string, string>>; bin: Record<string, string> };
  const fromDist = (p: string) => p.replace(/^(\.\/)?dist\//, './');
  const exportsMap = Object.fromEntries(Object.entries(manifest.exports).map(([key, value]) => [key, typeof value === 'string' ? fromDist(value) : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromDist(v)]))]));
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: manifest.name, version: manifest.version, exports: exportsMap, bin: Object.fromEntries(Object.entries(manifest.bin).map(([k, v]) => [k, fromDist(v)])) }, null, 2));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'), 'dir');
  bin = path.join(pkg, fromDist(Object.values(manifest.bin)[0]!));
  // The entry points, mapped to their sources for the type-check: 'botbuilder-handoff-adapters/advanced' → src/advanced.ts.
  const paths: Record<string, string> = {};
  for (const [key, value] of Object.entries(manifest.exports)) {
    const main = typeof value === 'string' ? value : value.default;
    if (!main?.endsWith('.js')) continue;
    paths[key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`] = path.join(ROOT, fromDist(main).replace(/\.js$/, '.ts'));
  }
  return paths;
}

/** The names a fragment declares at its top level (those of FRAGMENT_GLOBALS it then does not get). */
function declaredNames(code: string): Set<string> {
  const names = new Set<string>();
  const bind = (name: ts.BindingName) => {
    if (ts.isIdentifier(name)) names.add(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name);
  };
  for (const statement of ts.createSourceFile('f.ts', code, ts.ScriptTarget.ES2022).statements) {
    if (ts.isVariableStatement(statement)) statement.declarationList.declarations.forEach((d) => bind(d.name));
    else if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name) names.add(statement.name.text);
    else if (ts.isImportDeclaration(statement) && statement.importClause) {
      const { name, namedBindings } = statement.importClause;
      if (name) names.add(name.text);
      if (namedBindings && ts.isNamespaceImport(namedBindings)) names.add(namedBindings.name.text);
      if (namedBindings && ts.isNamedImports(namedBindings)) namedBindings.elements.forEach((e) => names.add(e.name.text));
    }
  }
  return names;
}

/** Writes each snippet where it is checked and where it runs. */
function writeSnippets(): void {
  for (const s of snippets) {
    const dir = path.join(pkg, 'snippets', fileStem(s));
    fs.mkdirSync(dir, { recursive: true });
    if (s.kind === 'fragment') {
      const own = declaredNames(s.code);
      const prelude = Object.entries(FRAGMENT_GLOBALS)
        .filter(([name]) => !own.has(name))
        .map(([name, type]) => `declare const ${name}: ${type};`)
        .join(' ');
      s.checkedFile = path.join(dir, 'fragment.ts');
      s.offset = 1;
      fs.writeFileSync(s.checkedFile, `${prelude}\n${s.code}export {};\n`);
      continue;
    }
    s.offset = 0;
    if (s.lang === 'ts') {
      s.checkedFile = path.join(dir, 'snippet.ts');
      fs.writeFileSync(s.checkedFile, s.code);
      // A program as an ES module (top-level await); a bot module as tsc compiles a CommonJS project.
      const esm = s.kind === 'program';
      const { code } = transformSync(s.code, { loader: 'ts', format: esm ? 'esm' : 'cjs', platform: 'node', target: 'node20', sourcefile: s.where });
      s.runFile = path.join(dir, esm ? 'snippet.mjs' : 'snippet.js');
      fs.writeFileSync(s.runFile, code);
    } else {
      s.checkedFile = s.runFile = path.join(dir, usesEsm(s.code) ? 'snippet.mjs' : 'snippet.js');
      fs.writeFileSync(s.runFile, s.code);
    }
  }
}

/** One program over every snippet: what each one's compiler says, by document line. */
function typeCheck(paths: Record<string, string>): void {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts'],
    types: ['node'],
    typeRoots: [path.join(ROOT, 'node_modules/@types')],
    strict: true,
    noUncheckedIndexedAccess: true,
    noImplicitOverride: true,
    esModuleInterop: true,
    skipLibCheck: true,
    resolveJsonModule: true,
    allowJs: true,
    checkJs: true,
    noEmit: true,
    paths: Object.fromEntries(Object.entries(paths).map(([name, file]) => [name, [file]])),
  };
  const files = snippets.map((s) => s.checkedFile!);
  const program = ts.createProgram(files, options);
  const format = (d: ts.Diagnostic) => ts.flattenDiagnosticMessageText(d.messageText, '\n');
  globalProblems = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()].map(format);
  for (const s of snippets) {
    const file = program.getSourceFile(s.checkedFile!);
    if (!file) {
      problems.set(s, ['the compiler did not read the file']);
      continue;
    }
    const javascript = s.lang === 'js';
    const found = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]
      .filter((d) => !(javascript && IMPLICIT_ANY.has(d.code)))
      .map((d) => {
        const { line } = file.getLineAndCharacterOfPosition(d.start ?? 0);
        return `${s.doc}:${s.line + 1 + line - s.offset!}: ${format(d)}`;
      });
    problems.set(s, found);
  }
}

// ---------------------------------------------------------------- running

let running = 0;
const waiting: Array<() => void> = [];
async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** A fresh machine's environment: no platform configured, nothing of the test runner's. */
function runEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(
    ([k]) => !/^(NIMCHAT_|WOZTELL_|INBENTA_|HANDOFF_|CONSOLE_|PG_|REPLICA_|RETENTION_|VITEST|npm_)/.test(k) && !['NODE_ENV', 'NODE_OPTIONS', 'PORT', 'HOST', 'STORAGE_URL', 'LOG_LEVEL', 'TEST'].includes(k),
  );
  return { ...Object.fromEntries(kept), PORT: '0', HOST: '127.0.0.1', STORAGE_URL: 'memory:', LOG_LEVEL: 'warn', ...extra };
}

interface Outcome {
  ready: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  /** Why the run did not end as it should (undefined when it did). */
  failure?: string;
}

/** Runs a snippet: until it exits, or until it is ready and then exits on SIGTERM. */
function run(s: Snippet): Promise<Outcome> {
  const args = s.kind === 'bot-module' ? [bin, 'serve', '--bot', `./${path.basename(s.runFile!)}`] : [s.runFile!];
  const child = spawn(process.execPath, args, { cwd: path.dirname(s.runFile!), env: runEnv(s.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let ready = false;
  let failure: string | undefined;
  return new Promise((resolve) => {
    const fail = (why: string) => {
      failure ??= why;
      child.kill('SIGKILL');
    };
    let deadline = setTimeout(() => fail(`not ready (no line with "listening on") after ${READY_TIMEOUT_MS / 1000} s, and still running`), READY_TIMEOUT_MS);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (!ready && READY.test(output)) {
        ready = true;
        clearTimeout(deadline);
        deadline = setTimeout(() => {
          deadline = setTimeout(() => fail(`did not exit within ${EXIT_TIMEOUT_MS / 1000} s of SIGTERM`), EXIT_TIMEOUT_MS);
          child.kill('SIGTERM');
        }, READY_GRACE_MS);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      if (!failure && code !== 0) failure = ready ? `exited with ${code ?? signal} on SIGTERM (expected 0)` : `exited with ${code ?? signal} before it was ready`;
      resolve({ ready, code, signal, output, failure });
    });
  });
}

// ---------------------------------------------------------------- links

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
    .replace(/ /g, '-');
}

/** The document's text outside code blocks, and its anchors. */
function outline(doc: string): { prose: string; anchors: Set<string> } {
  const kept: string[] = [];
  let fence: string | undefined;
  for (const line of fs.readFileSync(path.join(ROOT, doc), 'utf8').split('\n')) {
    const marker = /^ *(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker) fence = marker;
    else if (fence !== undefined && marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
    else if (fence === undefined) kept.push(line);
  }
  const prose = kept.join('\n');
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of prose.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = slug(heading!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const [, id] of prose.matchAll(/\bid="([^"]+)"/g)) anchors.add(id!);
  return { prose, anchors };
}

// ---------------------------------------------------------------- the tests

describe('code snippets of README.md and docs/', () => {
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-snippets-'));
    pkg = path.join(work, 'botbuilder-handoff-adapters');
    fs.mkdirSync(path.join(pkg, 'snippets'), { recursive: true });
    const paths = layOutPackage();
    writeSnippets();
    typeCheck(paths);
  }, 180_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('are found, each with an info string this test understands, and compile as a whole', () => {
    expect(snippets.filter((s) => s.doc === 'README.md').length).toBeGreaterThan(0);
    expect(snippets.filter((s) => s.kind !== 'fragment').length).toBeGreaterThan(5);
    expect(snippets.filter((s) => s.unknown.length > 0).map((s) => `${s.where}: unknown info-string words: ${s.unknown.join(', ')}`)).toEqual([]);
    expect(globalProblems).toEqual([]);
  });

  it('link to files and headings that exist', () => {
    const broken: string[] = [];
    for (const doc of DOCS) {
      const { prose } = outline(doc);
      for (const [, target] of prose.replace(/`[^`\n]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue;
        const [file = '', anchor] = target!.split('#');
        const resolved = file ? path.join(path.dirname(doc), file) : doc;
        if (!fs.existsSync(path.join(ROOT, resolved))) broken.push(`${doc}: ${target} (no file ${resolved})`);
        else if (anchor && resolved.endsWith('.md') && !outline(resolved).anchors.has(anchor)) broken.push(`${doc}: ${target} (no heading #${anchor} in ${resolved})`);
      }
    }
    expect(broken).toEqual([]);
  });

  for (const s of snippets) {
    const title = `${s.where} (${s.lang}${s.kind === 'program' ? '' : ` ${s.kind}`})`;
    it.concurrent(
      title,
      async ({ expect }) => {
        expect(problems.get(s), `${s.where} does not compile`).toEqual([]);
        if (s.kind === 'fragment') return;
        const outcome = await slot(() => run(s));
        expect(outcome.failure, `${s.where} ${outcome.failure}\n--- its output:\n${outcome.output.slice(-4000)}`).toBeUndefined();
      },
      240_000,
    );
  }
});
