/** Restarts on the same SQLite file: a dialog continues, a failed platform action completes later. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import axios from 'axios';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ActivityHandler, ConversationState } from 'botbuilder-core';
import { DialogSet, DialogTurnStatus, TextPrompt, WaterfallDialog, type DialogState } from 'botbuilder-dialogs';
import { App } from '../../src/app';
import { loadConfig } from '../../src/load-config';
import { createLogger } from '../../src/log';
import { NimchatAdminClient } from '../../adapters/nimchat/client';
import { registerAgentBot } from '../../adapters/nimchat/register';
import { NimchatSandbox } from '../../src/sandbox/nimchat/nimchat-sandbox';
import { RecordingSupportBot } from '../helpers/harness';
import { settle as settleQuiet } from '../helpers/settle';
import type { Stores } from '../../src/storage/create-stores';
import { createTestDatabase, dropTestDatabases } from '../helpers/postgres';
import { STILL_LOOKING_TEXT } from '../../dialogs/handoff-wait/wait-notices';

/** A bot whose dialog asks for an email, then confirms it: its state must survive a restart. */
class EmailBot extends ActivityHandler {
  constructor(storage: Stores['storage']) {
    super();
    const state = new ConversationState(storage);
    const dialogs = new DialogSet(state.createProperty<DialogState>('dialogState'));
    dialogs.add(new TextPrompt('email'));
    dialogs.add(
      new WaterfallDialog('ask', [
        (step) => step.prompt('email', 'What is your email address?'),
        async (step) => {
          await step.context.sendActivity(`Thanks, I will write to ${String(step.result)}.`);
          return step.endDialog();
        },
      ]),
    );
    this.onMessage(async (context, next) => {
      const dc = await dialogs.createContext(context);
      const result = await dc.continueDialog();
      if (result.status === DialogTurnStatus.empty) await dc.beginDialog('ask');
      await state.saveChanges(context);
      await next();
    });
  }
}

let dir: string;
let sandbox: NimchatSandbox;
let apps: App[] = [];

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-restart-'));
  sandbox = new NimchatSandbox({ deliveryRetryDelayMs: 10 });
  await sandbox.start();
});
afterEach(async () => {
  for (const app of apps) await app.stop().catch(() => undefined);
  apps = [];
  await sandbox.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** TEST_STORAGE=postgres: each file name stands for a database of its own on the test server. */
const databases = new Map<string, string>();
async function storageUrlOf(file: string): Promise<string> {
  if (process.env.TEST_STORAGE !== 'postgres') return `sqlite:${file}`;
  if (!databases.has(file)) databases.set(file, await createTestDatabase());
  return databases.get(file)!;
}
afterAll(dropTestDatabases);

async function startApp(file: string, createBot: (storage: Stores['storage'], app: { transcripts: unknown }) => ActivityHandler, extra: Record<string, string> = {}) {
  const admin = new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken);
  const bot = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Restart bot', outgoingUrl: 'http://127.0.0.1:9/unset' });
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    STORAGE_URL: await storageUrlOf(file),
    NIMCHAT_BASE_URL: sandbox.baseUrl,
    NIMCHAT_BOT_TOKEN: bot.accessToken!,
    NIMCHAT_WEBHOOK_SECRET: bot.secret!,
    ...extra,
  });
  const app = new App(config, {
    logger: createLogger({ level: 'silent', secrets: config.secrets }),
    createBot: ({ storage, transcripts }) => createBot(storage, { transcripts }),
    platformOptions: { nimchat: { http: { retry: { maxAttempts: 1 } } } },
    outbox: { baseDelayMs: 20, maxAttempts: 8 },
  });
  await app.start();
  apps.push(app);
  await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Restart bot', outgoingUrl: `${app.url}/api/nimchat` });
  return app;
}

function settle(app: App): Promise<void> {
  return settleQuiet(sandbox, app.queue, app.runtime.delivery);
}

async function customer() {
  const pub = `${sandbox.baseUrl}/public/api/v1/inboxes/${sandbox.inboxIdentifier}`;
  const contact = (await axios.post(`${pub}/contacts`, { name: 'Ada' })).data;
  const conv = (await axios.post(`${pub}/contacts/${contact.source_id}/conversations`, {})).data;
  const url = `${pub}/contacts/${contact.source_id}/conversations/${conv.id}/messages`;
  return {
    id: conv.id as number,
    say: (content: string) => axios.post(url, { content }),
    received: async () => ((await axios.get(url)).data as Array<{ message_type: number; content: string }>).filter((m) => m.message_type === 1).map((m) => m.content),
  };
}

describe('restart on the same file', () => {
  it('mid-dialog: the question was asked before the restart, the answer continues the dialog after it', async () => {
    const file = path.join(dir, 'state.sqlite');
    const first = await startApp(file, (storage) => new EmailBot(storage));
    const c = await customer();
    await c.say('hi');
    await settle(first);
    expect(await c.received()).toEqual(['What is your email address?']);
    await first.stop();

    const second = await startApp(file, (storage) => new EmailBot(storage));
    await c.say('ada@example.com');
    await settle(second);
    expect(await c.received()).toEqual(['What is your email address?', 'Thanks, I will write to ada@example.com.']);
  });

  it('a handoff refused with 500 is retried after a restart and completes; the bot hears accepted', async () => {
    const file = path.join(dir, 'outbox.sqlite');
    let bot: RecordingSupportBot | undefined;
    const make = (storage: Stores['storage'], deps: { transcripts: unknown }) =>
      (bot = new RecordingSupportBot({ storage, transcripts: deps.transcripts as never }));
    const first = await startApp(file, make, { NIMCHAT_HANDOFF_TEAM_ID: '1' });
    sandbox.faults.push({ method: 'POST', path: /toggle_status$/, status: 500, body: { error: 'boom' }, times: 1000 });
    const c = await customer();
    await c.say('I want a human');
    await settle(first);
    expect(sandbox.state.conversation(c.id).status).toBe('pending');
    expect(bot!.seen.some((a) => a.name === 'handoff.status')).toBe(false); // not failed: retrying
    expect(await first.stores.outbox.pending()).toHaveLength(1);
    await first.stop();

    sandbox.faults.splice(0); // the platform recovers
    const second = await startApp(file, make, { NIMCHAT_HANDOFF_TEAM_ID: '1' });
    for (let i = 0; i < 100 && (await second.stores.outbox.pending()).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    await settle(second);
    expect(await second.stores.outbox.pending()).toHaveLength(0);
    expect(sandbox.state.conversation(c.id).status).toBe('open');
    expect(bot!.seen.filter((a) => a.name === 'handoff.status').map((a) => (a.value as { state: string }).state)).toEqual(['accepted']);
    // the bot's logic hears nothing more in that conversation: the customer gets a wait notice only
    const before = (await c.received()).length;
    await c.say('hello?');
    await settle(second);
    expect((await c.received()).slice(before)).toEqual([STILL_LOOKING_TEXT]);
    expect(bot!.seen.filter((a) => a.type === 'message' && a.text === 'hello?')).toEqual([]);
  });

  it('an action that keeps failing is reported as handoff.status failed once its attempts are spent, and counted', async () => {
    const file = path.join(dir, 'fail.sqlite');
    let bot: RecordingSupportBot | undefined;
    const app = await startApp(file, (storage, deps) => (bot = new RecordingSupportBot({ storage, transcripts: deps.transcripts as never })), { NIMCHAT_HANDOFF_TEAM_ID: '1' });
    sandbox.faults.push({ method: 'POST', path: /toggle_status$/, status: 503, body: { error: 'down' }, times: 1000 });
    const c = await customer();
    await c.say('agent please');
    for (let i = 0; i < 200 && !bot!.seen.some((a) => a.name === 'handoff.status'); i++) await new Promise((r) => setTimeout(r, 25));
    await settle(app);
    const status = bot!.seen.find((a) => a.name === 'handoff.status');
    expect(status?.value).toMatchObject({ state: 'failed' });
    expect((await c.received()).at(-1)).toMatch(/couldn't reach a human/);
    expect(await app.metrics.text()).toMatch(/handoff_outbox_failed_total\{platform="nimchat",kind="handoff"\} 1/);
    expect(await app.metrics.text()).toMatch(/handoff_outbox_retries_total\{platform="nimchat",kind="handoff"\} 7/);
  });
});
