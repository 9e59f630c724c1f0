/** The WOZTELL clients against the sandbox over loopback: signed context, paging, refusals. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WoztellBotClient, WoztellInboxClient, WoztellOpenApiClient, signedContextHeaders, type InboxCredentials } from '../../../adapters/woztell/client';
import { PlatformApiError } from '../../../src/errors';
import { WoztellSandbox } from '../../../src/sandbox/woztell/woztell-sandbox';

const noRetry = { retry: { maxAttempts: 1 } };

describe('signed-context headers', () => {
  it('are built byte for byte as the Inbox documentation shows', () => {
    const credentials: InboxCredentials = {
      appId: '62062c0b717195320192b18f7',
      appIntegrationId: '6420fig28e65b466d4607ea2',
      signature: 'mKq60mpKn/YzaP5123tWU+AWX65LqT6BHkBIfq9d3os=',
    };
    const headers = signedContextHeaders(credentials);
    expect(headers['X-Woztell-Payload']).toBe('{"appIntegration":"6420fig28e65b466d4607ea2","app":"62062c0b717195320192b18f7"}');
    expect(headers['X-Woztell-SignedContext']).toBe(
      'mKq60mpKn/YzaP5123tWU+AWX65LqT6BHkBIfq9d3os=.eyJhcHBJbnRlZ3JhdGlvbiI6IjY0MjBmaWcyOGU2NWI0NjZkNDYwN2VhMiIsImFwcCI6IjYyMDYyYzBiNzE3MTk1MzIwMTkyYjE4ZjcifQ==',
    );
  });
});

describe('WOZTELL clients against the sandbox', () => {
  let sandbox: WoztellSandbox;
  let inbox: WoztellInboxClient;
  beforeEach(async () => {
    sandbox = new WoztellSandbox();
    await sandbox.start();
    inbox = new WoztellInboxClient(
      sandbox.inboxApiUrl,
      async () => ({ appId: sandbox.appId, appIntegrationId: sandbox.appIntegrationId, signature: sandbox.inboxSignature }),
      noRetry,
    );
  });
  afterEach(async () => {
    await sandbox.close();
  });

  it('sends exactly the signed-context headers on every Inbox call', async () => {
    const m = sandbox.createMember('Ada');
    await inbox.findThread({ memberId: m.memberId });
    await inbox.internalMessage({ memberId: m.memberId }, 'note');
    const payload = `{"appIntegration":"${sandbox.appIntegrationId}","app":"${sandbox.appId}"}`;
    for (const call of sandbox.calls) {
      expect(call.headers['x-woztell-payload']).toBe(payload);
      expect(call.headers['x-woztell-signedcontext']).toBe(`${sandbox.inboxSignature}.${Buffer.from(payload).toString('base64')}`);
      expect(call.status).toBe(200);
    }
  });

  it('pages list-users over three pages until hasNext is false', async () => {
    for (let i = 0; i < 3; i++) sandbox.addUser({ name: `Extra ${i}`, email: `x${i}@t`, role: 'AGENT', agentRole: 'AGENT', folders: ['vip'] });
    const users = await inbox.listAllUsers({ folderId: 'vip' }, { pageSize: 1 });
    expect(users.map((u) => u.name)).toEqual(['Extra 0', 'Extra 1', 'Extra 2']);
    const pages = sandbox.calls.filter((c) => c.path === '/api/list-users');
    expect(pages).toHaveLength(3);
    expect(pages[0]!.query.after).toBeUndefined();
    expect(pages[1]!.query.after).toBeTruthy();
    expect(pages[2]!.query.after).not.toBe(pages[1]!.query.after);
  });

  it('stops paging when the server repeats a cursor', async () => {
    const page = { ok: 1, data: [{ userId: 'u1', name: 'Loop' }], paging: { cursors: { after: 'same' }, hasNext: true } };
    sandbox.faults.push({ api: 'inbox', path: /list-users/, status: 200, body: page, times: 5 });
    const users = await inbox.listAllUsers({});
    expect(sandbox.calls.filter((c) => c.path === '/api/list-users')).toHaveLength(2);
    expect(users).toHaveLength(2);
  });

  it('treats ok !== 1 as a typed error carrying WOZTELL’s message, never the signature', async () => {
    const m = sandbox.createMember('Ada');
    const error = await inbox.updateThreadFolder(m.memberId, 'no-such-folder').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformApiError);
    expect((error as PlatformApiError).code).toBe('woztell_inbox_refused');
    expect((error as Error).message).toContain('Folder "no-such-folder" not found');
    expect((error as Error).message).not.toContain(sandbox.inboxSignature);
  });

  it('a wrong signature is refused by the Inbox with 401', async () => {
    const bad = new WoztellInboxClient(sandbox.inboxApiUrl, async () => ({ appId: sandbox.appId, appIntegrationId: sandbox.appIntegrationId, signature: 'wrong' }), noRetry);
    const error = await bad.findThread({}).catch((e: unknown) => e);
    expect((error as PlatformApiError).status).toBe(401);
    expect((error as Error).message).not.toContain('wrong.');
  });

  it('unassigns with userId null, and the thread then omits userId', async () => {
    const m = sandbox.createMember('Ada');
    await inbox.updateThreadAgent(m.memberId, sandbox.state.users[0]!.userId);
    expect((await inbox.findThread({ memberId: m.memberId }))!.userId).toBe(sandbox.state.users[0]!.userId);
    await inbox.updateThreadAgent(m.memberId, null);
    const thread = await inbox.findThread({ memberId: m.memberId });
    expect(thread).toBeDefined();
    expect('userId' in thread!).toBe(false);
  });

  it('Bot API: ok 1 sends in order; ok 0 and a bad token are typed errors with WOZTELL’s message and no token', async () => {
    const m = sandbox.createMember('Ada');
    const bot = new WoztellBotClient(sandbox.botApiUrl, sandbox.accessToken, noRetry);
    await bot.sendResponses({ channelId: sandbox.channelId, memberId: m.memberId, response: [{ type: 'TEXT', text: 'one' }, { type: 'TEXT', text: 'two' }] });
    expect(sandbox.received(m.memberId).map((x) => x.text)).toEqual(['one', 'two']);

    const refused = await bot.sendResponses({ channelId: sandbox.channelId, memberId: 'nobody', response: [{ type: 'TEXT', text: 'x' }] }).catch((e: unknown) => e);
    expect((refused as PlatformApiError).code).toBe('woztell_send_failed');
    expect((refused as Error).message).toContain('Member not found');

    const badToken = new WoztellBotClient(sandbox.botApiUrl, 'not-the-token', noRetry);
    const denied = await badToken.sendResponses({ channelId: sandbox.channelId, memberId: m.memberId, response: [{ type: 'TEXT', text: 'x' }] }).catch((e: unknown) => e);
    expect((denied as PlatformApiError).status).toBe(401);
    expect((denied as Error).message).toContain('Invalid access token');
    expect((denied as Error).message).not.toContain('not-the-token');
  });

  it('Open API: finds the inbox integration among others; GraphQL errors[] are errors', async () => {
    const open = new WoztellOpenApiClient(sandbox.openApiUrl, sandbox.accessToken, noRetry);
    expect(await open.findInboxCredentials()).toEqual({ appId: sandbox.appId, appIntegrationId: sandbox.appIntegrationId, signature: sandbox.inboxSignature });
    const m = sandbox.createMember('Ada', '85260000001');
    expect(await open.memberLiveChat(sandbox.channelId, '85260000001')).toBe(false);
    sandbox.agentUpdates(m.memberId, { liveChat: true });
    expect(await open.memberLiveChat(sandbox.channelId, '85260000001')).toBe(true);
    const error = await open.query('query { nope }', {}, (await import('zod')).z.unknown()).catch((e: unknown) => e);
    expect((error as PlatformApiError).code).toBe('woztell_graphql_error');
    expect((error as Error).message).toContain('Cannot query');
  });

  it('retries a 429 from the Bot API after Retry-After, then succeeds', async () => {
    const m = sandbox.createMember('Ada');
    sandbox.faults.push({ api: 'bot', path: /sendResponses/, status: 429, body: { ok: 0, err: 'slow down' }, headers: { 'Retry-After': '0' }, times: 1 });
    const bot = new WoztellBotClient(sandbox.botApiUrl, sandbox.accessToken);
    await bot.sendResponses({ channelId: sandbox.channelId, memberId: m.memberId, response: [{ type: 'TEXT', text: 'after the wait' }] });
    expect(sandbox.calls.filter((c) => c.api === 'bot').map((c) => c.status)).toEqual([429, 200]);
    expect(sandbox.received(m.memberId).map((x) => x.text)).toEqual(['after the wait']);
  });
});

describe('handoff doctor for WOZTELL', () => {
  it('checks the token, finds the inbox credentials and lists threads; reports a bad token', async () => {
    const { runChecks } = await import('../../../src/cli/doctor');
    const sandbox = new WoztellSandbox();
    await sandbox.start();
    try {
      const env = {
        STORAGE_URL: 'memory:',
        WOZTELL_ACCESS_TOKEN: sandbox.accessToken,
        WOZTELL_CHANNEL_SECRET: sandbox.channelSecret,
        WOZTELL_BOT_API_URL: sandbox.botApiUrl,
        WOZTELL_OPEN_API_URL: sandbox.openApiUrl,
        WOZTELL_INBOX_API_URL: sandbox.inboxApiUrl,
        WOZTELL_BOT_FOLDER: 'bot',
      };
      const good = await runChecks(env);
      expect(good.filter((c) => c.verdict === 'fail')).toEqual([]);
      expect(good.map((c) => c.text).join('\n')).toMatch(/found through the Open API[\s\S]*list-threads in folder "main"/);
      const bad = await runChecks({ ...env, WOZTELL_ACCESS_TOKEN: 'wrong' });
      const failures = bad.filter((c) => c.verdict === 'fail').map((c) => c.text);
      expect(failures.some((t) => /Open API .* refuses/.test(t))).toBe(true);
      expect(failures.some((t) => /no inbox integration credentials/.test(t))).toBe(true);
      expect(failures.join('\n')).not.toContain('wrong');
    } finally {
      await sandbox.close();
    }
  });
});
