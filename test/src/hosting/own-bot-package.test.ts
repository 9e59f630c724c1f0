/**
 * A bot developer's path, as a newcomer takes it: a fresh bot folder, `npm install` of this package
 * (packed as `npm pack` makes it) with botbuilder, on a machine whose npm answers no to npx's install
 * prompt; then an unchanged multi-turn prompt bot (test/fixtures/profile-bot: ChoicePrompt,
 * TextPrompt, ConfirmPrompt, an onMembersAdded welcome; it knows nothing of this package) served by
 * one call (`serve(bot)`) and by `npx handoff serve --bot`, in sandbox mode. On the emulated Nimchat
 * and WOZTELL: the welcome comes first, the prompt's choices arrive as native choices, a name like
 * "Agent Smith" at a prompt is an answer, and "I want a human" hands off at any point (the first
 * message included), with the transcript in the note.
 *
 * It installs from the registry (the npm cache when warm) and compiles better-sqlite3: minutes, so
 * it runs once per CI run (SKIP_PACKAGE_TEST=1 skips it on the other Node versions).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const FIXTURE = path.join(ROOT, 'test/fixtures/profile-bot');
const AGENT_FIXTURE = path.join(ROOT, 'test/fixtures/agents-quickstart');
/** The Agents SDK version this repository is tested with. */
const AGENTS_SDK = (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/@microsoft/agents-hosting/package.json'), 'utf8')) as { version: string }).version;
const skip = process.env.SKIP_PACKAGE_TEST === '1';

let botDir = '';

describe.skipIf(skip)('your own bot, from a fresh folder with this package installed', () => {
  beforeAll(async () => {
    if (!fs.existsSync(path.join(ROOT, 'dist/src/index.js'))) throw new Error('run `npm run build` first: the package is packed from dist/');
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-own-bot-'));
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: ROOT });
    const tarball = path.join(work, stdout.trim().split('\n').pop()!);
    botDir = path.join(work, 'my-bot');
    fs.mkdirSync(botDir);
    for (const file of fs.readdirSync(FIXTURE)) fs.copyFileSync(path.join(FIXTURE, file), path.join(botDir, file));
    fs.writeFileSync(path.join(botDir, 'package.json'), JSON.stringify({ name: 'my-bot', version: '1.0.0', private: true }, null, 2));
    // The one call, in the file where a sample would build its own restify server.
    fs.writeFileSync(path.join(botDir, 'serve.js'), "const { serve } = require('botbuilder-handoff-adapters');\nconst { bot } = require('./index');\n\nserve(bot);\n");
    // npm_config_yes=false: npx refuses to fetch what is not installed (botbuilder-dialogs' postinstall runs `npx rimraf`).
    fs.copyFileSync(path.join(AGENT_FIXTURE, 'agent.js'), path.join(botDir, 'agent.js'));
    await run('npm', ['install', tarball, 'botbuilder@4.23.3', 'botbuilder-dialogs@4.23.3', `@microsoft/agents-hosting@${AGENTS_SDK}`, `@microsoft/agents-activity@${AGENTS_SDK}`, '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: botDir,
      env: { ...process.env, npm_config_yes: 'false' },
      maxBuffer: 64 * 1024 * 1024,
    });
  }, 600_000);

  afterAll(() => {
    if (botDir) fs.rmSync(path.dirname(botDir), { recursive: true, force: true });
  });

  it('served by one call: serve(bot)', async () => {
    await exercise(['serve.js']);
  }, 120_000);

  it('served without code: npx handoff serve --bot ./index.js', async () => {
    await exercise([path.join(botDir, 'node_modules/.bin/handoff'), 'serve', '--bot', './index.js']);
  }, 120_000);

  it('an Agents SDK agent as its quickstart writes one: npx handoff serve --bot ./agent.js', async () => {
    const served = await start([path.join(botDir, 'node_modules/.bin/handoff'), 'serve', '--bot', './agent.js']);
    try {
      expect(served.output()).toContain('your bot (Microsoft 365 Agents SDK)');
      await agentOnNimchat(served.nimchat);
      await agentOnWoztell(served.woztell);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- the bot's output:\n${served.output()}`, { cause: error });
    } finally {
      const exited = new Promise((r) => served.child.once('exit', r));
      served.child.kill('SIGTERM');
      await exited;
    }
    expect(served.child.exitCode).toBe(0);
  }, 120_000);
});

interface Served {
  child: ChildProcess;
  nimchat: string;
  woztell: string;
  output: () => string;
}

/** Starts the bot (sandbox mode, ports chosen by the system) and reads the emulations' URLs from its banner. */
async function start(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, args, { cwd: botDir, env: { ...process.env, PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'development', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const nimchat = /Sandbox Nimchat:\s+(http:\/\/\S+)/.exec(out)?.[1];
    const woztell = /Sandbox WOZTELL:\s+(http:\/\/\S+)/.exec(out)?.[1];
    if (nimchat && woztell) return { child, nimchat, woztell, output: () => out };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the bot did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function exercise(args: string[]): Promise<void> {
  const served = await start(args);
  try {
    await onNimchat(served.nimchat);
    await onWoztell(served.woztell);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- the bot's output:\n${served.output()}`, { cause: error });
  } finally {
    const exited = new Promise((r) => served.child.once('exit', r));
    served.child.kill('SIGTERM');
    await exited;
  }
  expect(served.child.exitCode).toBe(0);
}

async function json(url: string, init?: RequestInit): Promise<any> {
  const res = await fetch(url, { ...init, headers: { 'Content-Type': 'application/json', ...(init?.headers ?? {}) } });
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Polls until `check` passes (the bot answers asynchronously). */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => void, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    try {
      check(value);
      return value;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const AGENT = { api_access_token: 'sandbox-agent-token' };

async function onNimchat(base: string): Promise<void> {
  const inbox = `${base}/public/api/v1/inboxes/sandbox-inbox`;
  const customer = async () => {
    const contact = await json(`${inbox}/contacts`, { method: 'POST', body: JSON.stringify({ name: 'Ada' }) });
    const conversation = await json(`${inbox}/contacts/${contact.source_id}/conversations`, { method: 'POST' });
    const url = `${inbox}/contacts/${contact.source_id}/conversations/${conversation.id}/messages`;
    return {
      id: conversation.id as number,
      say: (content: string) => json(url, { method: 'POST', body: JSON.stringify({ content }) }),
      outgoing: async () => ((await json(url)) as Array<{ message_type: number; content: string; content_type: string; content_attributes: any }>).filter((m) => m.message_type === 1),
    };
  };

  const ada = await customer();
  await ada.say('hi');
  const first = await eventually(ada.outgoing, (m) => expect(m).toHaveLength(2));
  expect(first[0]!.content).toMatch(/^Welcome!/);
  expect(first[1]).toMatchObject({ content: 'How do you get to work?', content_type: 'input_select' });
  expect(first[1]!.content_attributes.items.map((i: { title: string }) => i.title)).toEqual(['Car', 'Bus', 'Bicycle']);
  await ada.say('Bus');
  await eventually(ada.outgoing, (m) => expect(m.at(-1)?.content).toBe('What is your name?'));
  await ada.say('Agent Smith');
  const confirm = await eventually(ada.outgoing, (m) => expect(m.at(-1)?.content).toBe('Would you like to give your age?'));
  expect(confirm.at(-2)!.content).toBe('Thanks Agent Smith.');
  expect(confirm.at(-1)!.content_type).toBe('input_select');
  await ada.say('I want a human');
  await eventually(
    () => json(`${base}/api/v1/accounts/1/conversations/${ada.id}`, { headers: AGENT }),
    (c) => expect(c.status).toBe('open'),
  );
  const notes = ((await json(`${base}/api/v1/accounts/1/conversations/${ada.id}/messages`, { headers: AGENT })).payload as Array<{ private: boolean; content: string }>).filter((m) => m.private);
  expect(notes).toHaveLength(1);
  expect(notes[0]!.content).toContain('Customer: Agent Smith\nBot: Thanks Agent Smith.');
  expect(notes[0]!.content).toContain('Customer: I want a human');

  // The very first message of a conversation asks for a human.
  const bo = await customer();
  await bo.say('I want a human');
  await eventually(
    () => json(`${base}/api/v1/accounts/1/conversations/${bo.id}`, { headers: AGENT }),
    (c) => expect(c.status).toBe('open'),
  );
  const told = (await bo.outgoing()).map((m) => m.content);
  expect(told[0]).toMatch(/^Welcome!/);
  expect(told.at(-1)).toMatch(/human/);
}

async function onWoztell(base: string): Promise<void> {
  const member = await json(`${base}/sandbox/members`, { method: 'POST', body: JSON.stringify({ name: 'Cy' }) });
  const say = (text: string) => json(`${base}/sandbox/members/${member.memberId}/messages`, { method: 'POST', body: JSON.stringify({ text }) });
  const fromBot = async () => ((await json(`${base}/sandbox/members/${member.memberId}/messages`)) as Array<{ from: string; type: string; text: string; item: any }>).filter((m) => m.from === 'bot');
  await say('hello');
  const first = await eventually(fromBot, (m) => expect(m).toHaveLength(2));
  expect(first[0]!.text).toMatch(/^Welcome!/);
  expect(first[1]!.type).toBe('WHATSAPP_REPLY_BUTTONS');
  expect(first[1]!.item.buttons.map((b: { title: string }) => b.title)).toEqual(['Car', 'Bus', 'Bicycle']);
  await say('2');
  await eventually(fromBot, (m) => expect(m.at(-1)?.text).toBe('What is your name?'));
  await say('I want a human');
  const thread = await eventually(
    () => json(`${base}/sandbox/members/${member.memberId}/thread`),
    (t) => expect(t.notes).toHaveLength(1),
  );
  expect(thread.folder).toBe('main');
  expect(thread.notes[0].message).toContain('Customer: 2\nBot: What is your name?\nCustomer: I want a human');
}

/** The quickstart agent on Nimchat: the welcome, its state across turns, and "I want a human" handed off by the host. */
async function agentOnNimchat(base: string): Promise<void> {
  const inbox = `${base}/public/api/v1/inboxes/sandbox-inbox`;
  const contact = await json(`${inbox}/contacts`, { method: 'POST', body: JSON.stringify({ name: 'Di' }) });
  const conversation = await json(`${inbox}/contacts/${contact.source_id}/conversations`, { method: 'POST' });
  const url = `${inbox}/contacts/${contact.source_id}/conversations/${conversation.id}/messages`;
  const say = (content: string) => json(url, { method: 'POST', body: JSON.stringify({ content }) });
  const outgoing = async () => ((await json(url)) as Array<{ message_type: number; content: string }>).filter((m) => m.message_type === 1).map((m) => m.content);
  await say('hi');
  await eventually(outgoing, (m) => expect(m).toEqual(['Hello and Welcome!', '[1] You said: hi']));
  await say('again');
  await eventually(outgoing, (m) => expect(m.at(-1)).toBe('[2] You said: again'));
  await say('I want a human');
  await eventually(
    () => json(`${base}/api/v1/accounts/1/conversations/${conversation.id}`, { headers: AGENT }),
    (c) => expect(c.status).toBe('open'),
  );
  const notes = ((await json(`${base}/api/v1/accounts/1/conversations/${conversation.id}/messages`, { headers: AGENT })).payload as Array<{ private: boolean; content: string }>).filter((m) => m.private);
  expect(notes).toHaveLength(1);
  expect(notes[0]!.content).toContain('Customer: again\nBot: [2] You said: again\nCustomer: I want a human');
}

async function agentOnWoztell(base: string): Promise<void> {
  const member = await json(`${base}/sandbox/members`, { method: 'POST', body: JSON.stringify({ name: 'Ed' }) });
  const say = (text: string) => json(`${base}/sandbox/members/${member.memberId}/messages`, { method: 'POST', body: JSON.stringify({ text }) });
  const fromBot = async () => ((await json(`${base}/sandbox/members/${member.memberId}/messages`)) as Array<{ from: string; text: string }>).filter((m) => m.from === 'bot').map((m) => m.text);
  await say('hello');
  await eventually(fromBot, (m) => expect(m).toEqual(['Hello and Welcome!', '[1] You said: hello']));
  await say('I want a human');
  const thread = await eventually(
    () => json(`${base}/sandbox/members/${member.memberId}/thread`),
    (t) => expect(t.notes).toHaveLength(1),
  );
  expect(thread.notes[0].message).toContain('Bot: [1] You said: hello\nCustomer: I want a human');
}
