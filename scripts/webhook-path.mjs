// Which of the project's source files one Nimchat webhook passes through, measured with V8's precise
// coverage (node:inspector, in this process): the app in sandbox mode on loopback with memory storage,
// one conversation warmed up with a few customer messages, then one more customer message ("hello"),
// from the customer's POST to the emulated Nimchat until the bot's reply has reached it and the app is
// quiet again. A file is on the path when at least one of its functions was called in that window
// (its module's top level counts too, if it was first loaded then).
//
//   node scripts/webhook-path.mjs                      this repository's dist/ (build it first)
//   node scripts/webhook-path.mjs --root=/tmp/before   another copy's dist/ (e.g. an older commit)
//   node scripts/webhook-path.mjs --json               the result as JSON
//   node scripts/webhook-path.mjs --runs=3             three fresh processes; checks they agree
//   options: --text=hello (the measured message) --warmup=3 (messages before it) --quiet-ms=150
//            --no-trace (skip the re-entry trace) --background (keep the app's periodic timers at
//            their defaults instead of pushing them an hour away)
//
// Output: the project files (dist/src/x.js named as src/x.ts; adapters/, dialogs/ likewise) grouped
// by folder, with the number of their functions called and calls; separately the emulated platform's
// own files (dist/src/sandbox/), the console's (dist/src/console/) and node_modules. Three checks:
//   harness   what the script's own idle checks (queue.onIdle, delivery.whenIdle …) call, measured on
//             an idle app; they are made only after the window is closed, never inside it
//   leaked    whatever ran after the window closed, beyond those idle checks: work the window missed
//   idle      an equally long window with no message: background work that would pollute the window
//
// The window holds two webhooks: the customer's message and the echo of the bot's reply (Nimchat
// sends agent bots a message_created for their own messages too; the app ignores it). To tell them
// apart, the bot's reply is posted again from this script with the bot's token and the echo measured
// alone; the customer's webhook is then every function called more often in the window than in the
// echo's own window (this assumes the echo inside the window took the same path, as it is ignored
// on its sender's type alone).
//
// Re-entries: one more exchange ("hello" again, both its webhooks) runs with a breakpoint at the first statement of every
// project function the coverage window saw; a worker thread (inspector connectToMainThread) records
// each pause (the entered function and the stack that called it) and resumes at once. Checked against
// the coverage counts of that same window: every call must be one recorded entry, or the trace is
// reported as incomplete. Defined on that trace:
//   cross-file entries  entries whose nearest caller frame in the project's dist/ (library frames are
//                       looked through) is in another file, or absent (an event-loop or promise callback)
//   re-entries          cross-file entries into a file already entered earlier in the window
//   revisits            in the time-ordered sequence of entered files, the runs beyond one per file
// The pauses slow the message down (timers still fire by the wall clock), so its counts are compared
// with coverage, never its timing.
import inspector from 'node:inspector/promises';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';

const here = path.dirname(fileURLToPath(import.meta.url));
const HOUR = 3600_000;

function parseArgs(argv) {
  const options = { root: path.resolve(here, '..'), json: false, runs: 1, text: 'hello', warmup: 3, quietMs: 150, trace: true, background: false };
  for (const arg of argv) {
    const [key, value] = arg.startsWith('--') ? [arg.slice(2).split('=')[0], arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : undefined] : [undefined, undefined];
    if (key === 'root') options.root = path.resolve(value);
    else if (key === 'json') options.json = true;
    else if (key === 'runs') options.runs = Number(value);
    else if (key === 'text') options.text = value;
    else if (key === 'warmup') options.warmup = Number(value);
    else if (key === 'quiet-ms') options.quietMs = Number(value);
    else if (key === 'no-trace') options.trace = false;
    else if (key === 'background') options.background = true;
    else if (key === 'child') options.child = true;
    else {
      process.stderr.write(`unknown argument ${arg}\nusage: node scripts/webhook-path.mjs [--root=DIR] [--json] [--runs=N] [--text=hello] [--warmup=3] [--quiet-ms=150] [--no-trace] [--background]\n`);
      process.exit(2);
    }
  }
  if (!(options.runs >= 1) || !(options.warmup >= 1) || !(options.quietMs >= 0)) throw new Error('--runs and --warmup must be at least 1, --quiet-ms at least 0');
  return options;
}

// ---------------------------------------------------------------------------------------------
// Classifying coverage: which script is what.

function classifier(root) {
  const dist = path.join(root, 'dist') + path.sep;
  return (url) => {
    if (!url.startsWith('file://')) return { kind: 'other' };
    const file = fileURLToPath(url);
    if (file.includes(`${path.sep}node_modules${path.sep}`)) {
      const parts = file.split(`${path.sep}node_modules${path.sep}`).at(-1).split(path.sep);
      return { kind: 'node_modules', name: file, pkg: parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0] };
    }
    if (!file.startsWith(dist)) return { kind: 'other' };
    const rel = path.relative(path.join(root, 'dist'), file).split(path.sep).join('/');
    const ts = rel.replace(/\.js$/, '.ts');
    const name = rel.endsWith('.js') && fs.existsSync(path.join(root, ts)) ? ts : rel;
    const kind = rel.startsWith('src/sandbox/') ? 'sandbox' : rel.startsWith('src/console/') ? 'console' : 'project';
    return { kind, name };
  };
}

/** The functions called in a coverage delta: one entry per function with a count above zero. */
function calledFunctions(result, classify) {
  const called = [];
  for (const script of result) {
    const what = classify(script.url);
    if (what.kind === 'other') continue;
    for (const fn of script.functions) {
      const count = fn.ranges[0].count;
      if (count <= 0) continue;
      called.push({ ...what, url: script.url, fn: fn.functionName || (fn.ranges[0].startOffset === 0 ? '(module top level)' : '(anonymous)'), start: fn.ranges[0].startOffset, end: fn.ranges[0].endOffset, count });
    }
  }
  return called;
}

const keyOf = (f) => `${f.name}:${f.start}-${f.end}`;

function byFile(called) {
  const files = new Map();
  for (const f of called) {
    const entry = files.get(f.name) ?? { file: f.name, functions: 0, calls: 0, called: [] };
    entry.functions++;
    entry.calls += f.count;
    entry.called.push(`${f.fn}@${f.start} x${f.count}`);
    files.set(f.name, entry);
  }
  return [...files.values()].sort((a, b) => a.file.localeCompare(b.file));
}

function folderOf(file) {
  const dir = path.posix.dirname(file);
  return dir === '.' ? '(root)' : dir;
}

function groupByFolder(files) {
  const folders = {};
  for (const f of files) (folders[folderOf(f.file)] ??= []).push(f.file);
  return Object.fromEntries(Object.entries(folders).sort(([a], [b]) => a.localeCompare(b)));
}

// ---------------------------------------------------------------------------------------------
// The re-entry trace: a worker thread debugging this (main) thread.

// Where a function's breakpoint goes: a location that runs exactly once per call, found on the
// function's syntax tree (TypeScript's parser, a dev dependency, reading the compiled JavaScript):
// the first statement of its body (descending into blocks and try blocks; a for-of/for-in loop's
// iterable, a for loop's initializer; none for while/do), or an arrow's expression body, or the
// closing brace of an empty body. Default parameters run only sometimes, loops' heads every round.
const TRACER = String.raw`
const { Session } = require('node:inspector');
const { parentPort, workerData } = require('node:worker_threads');
const ts = require(workerData.typescript);
const session = new Session();
session.connectToMainThread();
const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
const scripts = new Map(); // scriptId -> url
const byUrl = new Map(); // url -> scriptId
session.on('Debugger.scriptParsed', ({ params }) => { scripts.set(params.scriptId, params.url); byUrl.set(params.url, params.scriptId); });
const lineStarts = new Map(); // scriptId -> offsets of line starts
const offsetOf = (scriptId, line, column) => lineStarts.get(scriptId)[line] + column;
function locationOf(starts, offset) {
  let lo = 0, hi = starts.length - 1;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (starts[mid] <= offset) lo = mid; else hi = mid - 1; }
  return { lineNumber: lo, columnNumber: offset - starts[lo] };
}
let breakpoints = new Map(); // breakpointId -> function
let events = [];
let distPrefix = ''; // file URL of the dist folder: a caller frame counts when its script is under it
let stray = 0;
session.on('Debugger.paused', ({ params }) => {
  try {
    const fn = (params.hitBreakpoints || []).map((id) => breakpoints.get(id)).find(Boolean);
    if (!fn) { stray++; return; }
    const top = params.callFrames[0];
    const at = offsetOf(top.location.scriptId, top.location.lineNumber, top.location.columnNumber);
    const ok = at >= fn.start && at < fn.end;
    let caller = null;
    for (const frame of params.callFrames.slice(1)) {
      const url = scripts.get(frame.location.scriptId);
      if (url && url.startsWith(distPrefix) && !url.includes('/node_modules/')) { caller = url; break; }
    }
    events.push([fn.id, caller, ok ? 1 : 0]);
  } finally {
    session.post('Debugger.resume');
  }
});

/** Function-like nodes of a parsed file, outermost first. */
function functionNodes(sf) {
  const out = [];
  const visit = (node) => { if (ts.isFunctionLike(node) && node.body) out.push(node); ts.forEachChild(node, visit); };
  visit(sf);
  return out;
}
/** The span [from, to) in which the once-per-call location of the function lies, or a reason why there is none. */
function entrySpan(sf, node) {
  const body = node.kind === ts.SyntaxKind.SourceFile ? node : node.body;
  if (!ts.isBlock(body) && body.kind !== ts.SyntaxKind.SourceFile) return { from: body.getStart(sf), to: body.end };
  const first = (statements, block) => {
    const list = statements.filter((st) => !ts.isEmptyStatement(st) && !(ts.isExpressionStatement(st) && ts.isStringLiteral(st.expression)));
    if (list.length === 0) return block.kind === ts.SyntaxKind.SourceFile ? { why: 'empty module' } : { from: block.end - 1, to: block.end };
    const st = list[0];
    if (ts.isBlock(st)) return first(st.statements, st);
    if (ts.isTryStatement(st)) return first(st.tryBlock.statements, st.tryBlock);
    if (ts.isLabeledStatement(st)) return first([st.statement], block);
    if (ts.isForOfStatement(st) || ts.isForInStatement(st)) return { from: st.expression.getStart(sf), to: st.expression.end };
    if (ts.isForStatement(st)) return st.initializer ? { from: st.initializer.getStart(sf), to: st.initializer.end } : { why: 'for loop without initializer first' };
    if (ts.isWhileStatement(st) || ts.isDoStatement(st)) return { why: 'loop first' };
    return { from: st.getStart(sf), to: st.end };
  };
  return first(body.statements, body);
}

parentPort.on('message', async (message) => {
  try {
    if (message.type === 'arm') {
      await post('Debugger.enable', { maxScriptsCacheSize: 0 });
      distPrefix = message.distPrefix;
      const armed = [];
      const unarmed = [];
      const taken = new Map(); // location -> function armed there
      const functionsByUrl = new Map();
      for (const fn of message.functions) { if (!functionsByUrl.has(fn.url)) functionsByUrl.set(fn.url, []); functionsByUrl.get(fn.url).push(fn); }
      for (const [url, fns] of functionsByUrl) {
        const scriptId = byUrl.get(url);
        if (scriptId === undefined) { for (const fn of fns) unarmed.push({ ...fn, why: 'script not found' }); continue; }
        const { scriptSource } = await post('Debugger.getScriptSource', { scriptId });
        const starts = [0];
        for (let i = 0; i < scriptSource.length; i++) if (scriptSource.charCodeAt(i) === 10) starts.push(i + 1);
        lineStarts.set(scriptId, starts);
        const sf = ts.createSourceFile(url, scriptSource, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
        const nodes = functionNodes(sf);
        /** The innermost function a location belongs to (an arrow's first character is still its parent's). */
        const ownerOf = (o) => { let owner = sf; for (const n of nodes) if (n.getStart(sf) < o && o < n.end) owner = n; return owner; };
        const { locations } = await post('Debugger.getPossibleBreakpoints', { start: { scriptId, lineNumber: 0, columnNumber: 0 } });
        const offsets = locations.map((l) => [starts[l.lineNumber] + l.columnNumber, l]).sort((x, y) => x[0] - y[0]);
        for (const fn of fns) {
          let node;
          if (fn.start === 0 && fn.end >= scriptSource.length - 1) node = sf;
          else {
            let best = Infinity;
            for (const n of nodes) if (n.end === fn.end && Math.abs(n.getStart(sf) - fn.start) < best) { best = Math.abs(n.getStart(sf) - fn.start); node = n; }
          }
          let span;
          let owner = node;
          if (!node && fn.fn === '<instance_members_initializer>') {
            // A class's field initializers, run by V8 as one function per construction: the first field with an initializer.
            const visit = (n) => (ts.isClassLike(n) && n.end === fn.end ? n : ts.forEachChild(n, visit));
            const cls = visit(sf);
            const field = cls && cls.members.find((m) => ts.isPropertyDeclaration(m) && m.initializer && !(ts.getCombinedModifierFlags(m) & ts.ModifierFlags.Static));
            if (field) { span = { from: field.getStart(sf), to: field.end }; owner = ownerOf(cls.getStart(sf)); }
          }
          if (!node && !span) { unarmed.push({ ...fn, why: 'no function of the syntax tree has its range' }); continue; }
          span ??= entrySpan(sf, node);
          if (span.why) { unarmed.push({ ...fn, why: span.why }); continue; }
          const hit = offsets.find(([o]) => o >= span.from && o < span.to && ownerOf(o) === owner);
          if (!hit) { unarmed.push({ ...fn, why: 'no breakable location in its first statement' }); continue; }
          const [offset, first] = hit;
          const where = scriptId + ':' + offset;
          if (taken.has(where)) { unarmed.push({ ...fn, why: 'shares its location with ' + taken.get(where).fn + ' at ' + taken.get(where).start }); continue; }
          const { breakpointId } = await post('Debugger.setBreakpoint', { location: { scriptId, lineNumber: first.lineNumber, columnNumber: first.columnNumber } });
          taken.set(where, fn);
          breakpoints.set(breakpointId, fn);
          armed.push([fn.id, offset]);
        }
      }
      events = [];
      stray = 0;
      parentPort.postMessage({ type: 'armed', armed, unarmed });
    } else if (message.type === 'stop') {
      const recorded = events;
      events = [];
      await post('Debugger.disable');
      parentPort.postMessage({ type: 'stopped', events: recorded, stray });
    }
  } catch (error) {
    parentPort.postMessage({ type: 'error', message: String(error && error.stack || error) });
  }
});
parentPort.postMessage({ type: 'ready' });
`;

function startTracer(root) {
  // TypeScript from the measured copy's node_modules, else from this script's repository.
  let typescript;
  try {
    typescript = createRequire(path.join(root, 'package.json')).resolve('typescript');
  } catch {
    typescript = createRequire(import.meta.url).resolve('typescript');
  }
  const worker = new Worker(TRACER, { eval: true, workerData: { typescript } });
  const waiters = [];
  worker.on('message', (message) => {
    const waiter = waiters.shift();
    if (!waiter) return;
    if (message.type === 'error') waiter.reject(new Error(`tracer: ${message.message}`));
    else waiter.resolve(message);
  });
  worker.on('error', (error) => waiters.shift()?.reject(error));
  const next = () => new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  const ready = next();
  return {
    ready,
    async request(message) {
      const reply = next();
      worker.postMessage(message);
      return reply;
    },
    close: () => worker.terminate(),
  };
}

// ---------------------------------------------------------------------------------------------
// One measurement, in this process.

async function measure(options) {
  const root = options.root;
  const distSrc = path.join(root, 'dist', 'src');
  for (const file of ['app.js', 'config.js', 'log.js']) {
    if (!fs.existsSync(path.join(distSrc, file))) throw new Error(`${path.join(distSrc, file)} is missing: build ${root} first (npx tsc -p tsconfig.build.json there)`);
  }
  const classify = classifier(root);

  // Coverage from before the app's modules load, so every function of theirs is counted precisely.
  const session = new inspector.Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  /** The coverage since the previous call (taking it resets the counts). */
  const take = async () => (await session.post('Profiler.takePreciseCoverage')).result;

  const require = createRequire(path.join(root, 'package.json'));
  const { App } = require(path.join(distSrc, 'app.js'));
  // Builds from before src/load-config.ts had loadConfig in config.js.
  const { loadConfig } = require(path.join(distSrc, fs.existsSync(path.join(distSrc, 'load-config.js')) ? 'load-config.js' : 'config.js'));
  const { createLogger } = require(path.join(distSrc, 'log.js'));

  const env = { PORT: '0', HOST: '127.0.0.1', STORAGE_URL: 'memory:', LOG_LEVEL: 'silent' };
  const config = loadConfig(env);
  const logger = createLogger({ level: 'silent', secrets: config.secrets });
  const appOptions = {
    logger,
    env, // the platforms' own variables (newer code): none, whatever this shell has
    drainTimeoutMs: 2000,
    // The emulated Nimchat waits up to a minute for the webhook's answer: the traced message is slowed down by its pauses.
    platformOptions: { nimchat: { sandbox: { deliveryTimeoutMs: 60_000 } } },
    ...(options.background ? {} : { timers: { pollMs: HOUR }, pruneEveryMs: HOUR, console: { sampleEveryMs: HOUR, livePollMs: HOUR } }),
  };
  const app = new App(config, appOptions);
  await app.start();
  try {
    const sandbox = app.sandbox;
    if (!sandbox) throw new Error('the app did not start the emulated Nimchat (sandbox mode)');

    const call = async (method, url, body, headers = {}) => {
      const response = await fetch(url, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    };
    const pub = `${sandbox.baseUrl}/public/api/v1/inboxes/${sandbox.inboxIdentifier}`;
    const contact = await call('POST', `${pub}/contacts`, { name: 'Ada' });
    const conversation = await call('POST', `${pub}/contacts/${contact.source_id}/conversations`, {});
    const messagesUrl = `${pub}/contacts/${contact.source_id}/conversations/${conversation.id}/messages`;
    const replyPath = new RegExp(`/conversations/${conversation.id}/messages$`);
    // The bot's posts to the conversation, read from the emulation's call log (a plain array: no project code runs).
    const botPosts = () => sandbox.calls.filter((c) => c.by === 'bot' && c.method === 'POST' && replyPath.test(c.path));

    /** Runs `act`, then waits until `done()`, every webhook it caused has been answered and no API call has come for quietMs. Calls no project function. */
    const quietly = async (what, act, done) => {
      const firstDelivery = sandbox.deliveries.log.length;
      const deliveries = () => sandbox.deliveries.log.slice(firstDelivery);
      const started = performance.now();
      await act();
      while (!done()) {
        if (performance.now() - started > 60_000) throw new Error(`${what}: nothing within 60 s`);
        await sleep(2);
      }
      let seen = sandbox.calls.length;
      let quietSince = performance.now();
      while (performance.now() - quietSince < options.quietMs || deliveries().length === 0 || deliveries().some((d) => d.outcome === 'pending')) {
        if (performance.now() - started > 60_000) throw new Error(`${what}: a webhook still pending after 60 s`);
        await sleep(5);
        if (sandbox.calls.length !== seen) {
          seen = sandbox.calls.length;
          quietSince = performance.now();
        }
      }
      return deliveries().map((d) => {
        const body = JSON.parse(d.body);
        return `${d.event}${body.message_type !== undefined ? ` (${body.message_type}${body.sender?.type ? `, from ${body.sender.type}` : ''})` : ''}: ${d.statuses.join(',')} ${d.outcome}`;
      });
    };
    /** The customer says `text`; resolves once the bot has replied and all is quiet. */
    const exchange = async (text) => {
      const before = botPosts().length;
      const webhooks = await quietly(`reply to "${text}"`, () => call('POST', messagesUrl, { content: text }), () => botPosts().length > before);
      const posts = botPosts().slice(before);
      return { replies: posts.map((c) => c.body?.content ?? null), posts, webhooks };
    };
    /**
     * The bot's own messages posted again, from here with the bot's token (the app is not involved):
     * the webhooks the emulation sends back for them, the echoes the app receives and ignores.
     */
    const botToken = [...sandbox.state.agentBots.values()].find((b) => b.outgoing_url)?.accessToken;
    const echo = (posts) => quietly('echo', async () => {
      for (const post of posts) await call('POST', `${sandbox.baseUrl}${post.path}`, post.body, { api_access_token: botToken });
    }, () => true);
    /** Waits until the emulation has no webhook in flight, the queue is empty and the outbox delivered, three times in a row (test/helpers/settle.ts). */
    const settle = async () => {
      let quiet = 0;
      for (let i = 0; i < 500 && quiet < 3; i++) {
        await sandbox.idle();
        await app.queue.onIdle();
        await app.runtime.delivery.whenIdle(1000);
        await sleep(5);
        quiet = sandbox.deliveries.pending === 0 && app.queue.depth === 0 && app.runtime.delivery.active === 0 ? quiet + 1 : 0;
      }
    };

    for (let i = 0; i < options.warmup; i++) {
      await exchange(options.text);
      await settle();
    }

    // What the idle checks themselves call, on an idle app.
    await take();
    await settle();
    const harness = calledFunctions(await take(), classify);

    // The window: one customer message and everything until its reply is delivered and the app is quiet.
    await take();
    const t0 = performance.now();
    const { replies, posts, webhooks } = await exchange(options.text);
    const window = calledFunctions(await take(), classify);
    const windowMs = performance.now() - t0;

    // Anything that ran after the window closed, beyond the idle checks: work the window missed.
    await settle();
    const after = calledFunctions(await take(), classify);
    const harnessCounts = new Map(harness.map((f) => [keyOf(f), f.count]));
    const leaked = after.filter((f) => f.kind !== 'node_modules' && !(harnessCounts.get(keyOf(f)) >= f.count));

    const project = window.filter((f) => f.kind === 'project');
    const files = byFile(project);

    // An equally long window without a message: background work.
    await sleep(windowMs);
    const idle = calledFunctions(await take(), classify).filter((f) => f.kind !== 'node_modules');

    // The echo of the bot's reply alone, to tell the customer's webhook from it: a function called
    // more often in the window than in the echo's own window was called for the customer's message.
    let echoed;
    if (botToken) {
      await take();
      const echoWebhooks = await echo(posts);
      const echoCalled = calledFunctions(await take(), classify);
      await settle();
      const echoAfter = calledFunctions(await take(), classify);
      const echoCounts = new Map(echoCalled.map((f) => [keyOf(f), f.count]));
      const incoming = project.map((f) => ({ ...f, count: f.count - (echoCounts.get(keyOf(f)) ?? 0) })).filter((f) => f.count > 0);
      const echoFiles = byFile(echoCalled.filter((f) => f.kind === 'project'));
      const incomingFiles = byFile(incoming);
      echoed = {
        webhooks: echoWebhooks,
        files: { total: echoFiles.length, byFolder: groupByFolder(echoFiles), list: echoFiles },
        customerWebhook: {
          total: incomingFiles.length,
          files: incomingFiles.map((f) => f.file),
          sharedWithEcho: incomingFiles.filter((f) => echoFiles.some((e) => e.file === f.file)).map((f) => f.file),
          onlyInEcho: echoFiles.filter((e) => !incomingFiles.some((f) => f.file === e.file)).map((f) => f.file),
        },
        leaked: echoAfter.filter((f) => f.kind !== 'node_modules' && !(harnessCounts.get(keyOf(f)) >= f.count)).map((f) => `${f.name} ${f.fn} x${f.count}`),
        notInWindow: echoCalled.filter((f) => f.kind === 'project' && !project.some((w) => keyOf(w) === keyOf(f) && w.count >= f.count)).map((f) => `${f.name} ${f.fn} x${f.count}`),
      };
    }


    let reEntries = { measured: false, reason: '--no-trace' };
    if (options.trace) reEntries = await trace({ options, take, classify, window, exchange, settle });

    const nodeModules = window.filter((f) => f.kind === 'node_modules');
    return {
      root,
      node: process.version,
      message: options.text,
      warmup: options.warmup,
      replies,
      webhooks,
      windowMs: Math.round(windowMs * 10) / 10,
      backgroundTimers: options.background ? 'defaults' : 'pushed an hour away (timers.pollMs, pruneEveryMs, console.sampleEveryMs/livePollMs)',
      files: {
        total: files.length,
        functions: project.length,
        calls: project.reduce((sum, f) => sum + f.count, 0),
        byFolder: groupByFolder(files),
        list: files,
      },
      excluded: {
        sandbox: byFile(window.filter((f) => f.kind === 'sandbox')),
        console: byFile(window.filter((f) => f.kind === 'console')),
        nodeModules: { files: new Set(nodeModules.map((f) => f.name)).size, packages: [...new Set(nodeModules.map((f) => f.pkg))].sort() },
      },
      checks: {
        harness: byFile(harness.filter((f) => f.kind !== 'node_modules')).map((f) => f.file),
        leaked: leaked.map((f) => `${f.name} ${f.fn} x${f.count}`),
        idle: idle.map((f) => `${f.name} ${f.fn} x${f.count}`),
      },
      echo: echoed ?? { measured: false, reason: "the agent bot's token was not found in the emulation's state" },
      reEntries,
    };
  } finally {
    await app.stop();
    await session.post('Profiler.stopPreciseCoverage').catch(() => undefined);
    session.disconnect();
  }
}

async function trace({ options, take, classify, window, exchange, settle }) {
  await settle();
  const project = window.filter((f) => f.kind === 'project');
  await take();
  const functions = project.map((f, id) => ({ id, url: f.url, name: f.name, fn: f.fn, start: f.start, end: f.end }));
  const tracer = startTracer(options.root);
  try {
    await tracer.ready;
    const armed = await tracer.request({ type: 'arm', functions, distPrefix: pathToFileURL(path.join(options.root, 'dist')).href + '/' });
    await take();
    await exchange(options.text);
    const covered = calledFunctions(await take(), classify).filter((f) => f.kind === 'project');
    const { events, stray } = await tracer.request({ type: 'stop' });
    await settle();

    // The check: each call the coverage counted is one recorded entry, function by function.
    const hits = new Map();
    for (const [id] of events) hits.set(id, (hits.get(id) ?? 0) + 1);
    const idOf = new Map(functions.map((f) => [keyOf(f), f.id]));
    const armedAt = new Map(armed.armed);
    const snippet = (url, offset) => (offset === undefined ? '' : fs.readFileSync(fileURLToPath(url), 'utf8').slice(offset, offset + 40));
    const mismatches = [];
    for (const f of covered) {
      const id = idOf.get(keyOf(f));
      const got = id === undefined ? 0 : (hits.get(id) ?? 0);
      if (got !== f.count) mismatches.push(`${f.name} ${f.fn}: ${f.count} calls, ${got} entries${id === undefined ? ' (not called in the coverage window, so not armed)' : ` (breakpoint at ${f.start}..${armedAt.get(id)}..${f.end} ${JSON.stringify(snippet(f.url, armedAt.get(id)))})`}`);
    }
    const coveredKeys = new Set(covered.map(keyOf));
    for (const f of functions) if (!coveredKeys.has(keyOf(f)) && hits.get(f.id)) mismatches.push(`${f.name} ${f.fn}: no call counted, ${hits.get(f.id)} entries`);
    const misplaced = events.filter((e) => !e[2]).length;

    const fileOfUrl = new Map(project.map((f) => [f.url, f.name]));
    const entered = new Set();
    const perFile = new Map();
    let crossFile = 0;
    let fromOutside = 0;
    let reEntries = 0;
    let runs = 0;
    let previous;
    for (const [id, callerUrl] of events) {
      const file = functions[id].name;
      const caller = callerUrl === null ? null : (fileOfUrl.get(callerUrl) ?? classify(callerUrl).name);
      const stats = perFile.get(file) ?? { file, entries: 0, crossFile: 0, reEntries: 0 };
      stats.entries++;
      if (caller !== file) {
        crossFile++;
        stats.crossFile++;
        if (caller === null) fromOutside++;
        if (entered.has(file)) {
          reEntries++;
          stats.reEntries++;
        }
      }
      entered.add(file);
      if (file !== previous) runs++;
      previous = file;
      perFile.set(file, stats);
    }
    const complete = mismatches.length === 0 && armed.unarmed.length === 0 && misplaced === 0;
    return {
      measured: complete,
      ...(complete ? {} : { reason: 'the trace does not match the coverage of its own window (see mismatches); its figures are not reliable' }),
      entries: events.length,
      files: entered.size,
      crossFileEntries: crossFile,
      fromOutside,
      reEntries,
      sequenceRuns: runs,
      revisits: runs - entered.size,
      perFile: [...perFile.values()].sort((a, b) => b.reEntries - a.reEntries || b.crossFile - a.crossFile || a.file.localeCompare(b.file)),
      check: { armed: armed.armed.length, unarmed: armed.unarmed.map((f) => `${f.name} ${f.fn}: ${f.why}`), misplaced, stray, mismatches },
    };
  } finally {
    await tracer.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Output.

function summary(result) {
  const lines = [];
  lines.push(`Webhook path of one Nimchat customer message ("${result.message}", after ${result.warmup} warm-up messages in the same conversation)`);
  lines.push(`root: ${result.root}   node ${result.node}   window ${result.windowMs} ms   bot replied: ${JSON.stringify(result.replies)}`);
  lines.push(`webhooks the emulated Nimchat delivered in the window: ${result.webhooks.join('; ')}`);
  lines.push(`background timers: ${result.backgroundTimers}`);
  lines.push('');
  lines.push(`Project files passed through: ${result.files.total} (${result.files.functions} functions, ${result.files.calls} calls)`);
  for (const [folder, files] of Object.entries(result.files.byFolder)) {
    lines.push(`  ${folder}/ (${files.length})`);
    for (const file of files) {
      const f = result.files.list.find((x) => x.file === file);
      lines.push(`    ${path.posix.basename(file).padEnd(36)} ${String(f.functions).padStart(4)} fn ${String(f.calls).padStart(6)} calls`);
    }
  }
  lines.push('');
  lines.push(`Not counted: the emulated Nimchat's own files (${result.excluded.sandbox.length}): ${result.excluded.sandbox.map((f) => f.file).join(', ') || '-'}`);
  lines.push(`             the console's (${result.excluded.console.length}): ${result.excluded.console.map((f) => f.file).join(', ') || '-'}`);
  lines.push(`             node_modules: ${result.excluded.nodeModules.files} files in ${result.excluded.nodeModules.packages.length} packages (${result.excluded.nodeModules.packages.join(', ')})`);
  lines.push('');
  lines.push(`Checks: leaked after the window: ${result.checks.leaked.length === 0 ? 'nothing' : result.checks.leaked.join('; ')}`);
  lines.push(`        idle window (no message): ${result.checks.idle.length === 0 ? 'nothing ran' : result.checks.idle.join('; ')}`);
  lines.push(`        idle checks made after the window (not in it): ${result.checks.harness.join(', ') || '-'}`);
  const e = result.echo;
  lines.push('');
  if (!e.webhooks) lines.push(`Split by webhook: not measured (${e.reason})`);
  else {
    lines.push(`Split by webhook: the bot's reply posted again from this script, its echo alone (${e.webhooks.join('; ')}) passes through ${e.files.total} files:`);
    for (const [folder, files] of Object.entries(e.files.byFolder)) lines.push(`  ${folder}/: ${files.map((f) => path.posix.basename(f)).join(', ')}`);
    lines.push(`  the customer's webhook (functions called more often in the window than in the echo's window): ${e.customerWebhook.total} files`);
    lines.push(`  files only the echo needed: ${e.customerWebhook.onlyInEcho.join(', ') || '-'}`);
    lines.push(`  checks: leaked ${e.leaked.length === 0 ? 'nothing' : e.leaked.join('; ')}; echo calls not in the window: ${e.notInWindow.length === 0 ? 'none' : e.notInWindow.join('; ')}`);
  }
  const r = result.reEntries;
  lines.push('');
  if (r.entries === undefined) lines.push(`Re-entries: not measured (${r.reason})`);
  else {
    lines.push(`Re-entries (traced message, ${r.measured ? 'matches its coverage call for call' : `NOT RELIABLE: ${r.reason}`}):`);
    lines.push(`  ${r.entries} function entries into ${r.files} files; ${r.crossFileEntries} cross-file entries (${r.fromOutside} from outside the project's frames); ${r.reEntries} re-entries; ${r.sequenceRuns} runs in the file sequence (${r.revisits} revisits)`);
    const top = r.perFile.filter((f) => f.reEntries > 0).slice(0, 12);
    if (top.length) lines.push(`  most re-entered: ${top.map((f) => `${f.file} ${f.reEntries}`).join(', ')}`);
    if (!r.measured) for (const m of [...r.check.unarmed, ...r.check.mismatches].slice(0, 20)) lines.push(`  ! ${m}`);
  }
  return lines.join('\n') + '\n';
}

function compareRuns(results) {
  const lists = results.map((r) => r.files.list.map((f) => f.file));
  const first = lists[0];
  const differing = lists.map((list, i) => ({ run: i + 1, extra: list.filter((f) => !first.includes(f)), missing: first.filter((f) => !list.includes(f)) })).filter((d) => d.extra.length || d.missing.length);
  return {
    runs: results.length,
    sameFiles: differing.length === 0,
    totals: results.map((r) => r.files.total),
    functions: results.map((r) => r.files.functions),
    calls: results.map((r) => r.files.calls),
    reEntries: results.map((r) => (r.reEntries.entries === undefined ? null : { measured: r.reEntries.measured, entries: r.reEntries.entries, crossFile: r.reEntries.crossFileEntries, reEntries: r.reEntries.reEntries, revisits: r.reEntries.revisits })),
    differing,
  };
}

const options = parseArgs(process.argv.slice(2));
if (options.runs > 1 && !options.child) {
  // Each run in a fresh process, one after the other.
  const results = [];
  const childArgs = process.argv.slice(2).filter((a) => !a.startsWith('--runs') && a !== '--json');
  for (let i = 0; i < options.runs; i++) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...childArgs, '--json', '--child'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (child.status !== 0) {
      process.stderr.write(child.stderr);
      throw new Error(`run ${i + 1} failed (exit ${child.status})`);
    }
    results.push(JSON.parse(child.stdout));
  }
  const stability = compareRuns(results);
  if (options.json) process.stdout.write(JSON.stringify({ ...results[0], stability, runs: results }, null, 2) + '\n');
  else {
    process.stdout.write(summary(results[0]));
    process.stdout.write(`\nRuns: ${stability.runs}, same file list in every run: ${stability.sameFiles ? 'yes' : 'NO'}; totals ${stability.totals.join(', ')}; functions ${stability.functions.join(', ')}; calls ${stability.calls.join(', ')}\n`);
    if (stability.reEntries[0]) process.stdout.write(`      re-entries per run: ${stability.reEntries.map((r) => `${r.reEntries} (${r.crossFile} cross-file, ${r.entries} entries${r.measured ? '' : ', unreliable'})`).join('; ')}\n`);
    for (const d of stability.differing) process.stdout.write(`      run ${d.run}: extra ${d.extra.join(', ') || '-'}; missing ${d.missing.join(', ') || '-'}\n`);
  }
} else {
  const result = await measure(options);
  process.stdout.write(options.json ? JSON.stringify(result, null, 2) + '\n' : summary(result));
}
// The app is stopped; a keep-alive socket of fetch must not hold the process.
process.exit(0);
