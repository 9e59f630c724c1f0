/**
 * The sandbox Nimchat driven by a public Chatwoot client library (@figuro/chatwoot-sdk), over real
 * HTTP on loopback: what a newcomer's own Chatwoot tooling would call, answered in Chatwoot's shapes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import ChatwootClient, { ApiError } from '@figuro/chatwoot-sdk';
import { request as sdkRequest } from '@figuro/chatwoot-sdk/dist/core/request';
import type { ChatwootAPIConfig } from '@figuro/chatwoot-sdk/dist/core/ChatwootAPI';
import type { ContactsApi } from '@figuro/chatwoot-sdk/dist/services/client/Contacts';
import type { ConversationsApi } from '@figuro/chatwoot-sdk/dist/services/client/Conversations';
import type { MessagesApi } from '@figuro/chatwoot-sdk/dist/services/client/Messages';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NimchatSandbox } from '../../../src/sandbox/nimchat/nimchat-sandbox';

type Json = any;
/** Chatwoot's `status=all`, which the SDK's types leave out. */
const ALL = 'all' as 'open';

function config(basePath: string, auth: Partial<ChatwootAPIConfig> = {}): ChatwootAPIConfig {
  return { basePath, with_credentials: false, credentials: 'omit', ...auth };
}

/** The status an SDK call failed with (the SDK throws ApiError for every non-2xx). */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (error) {
    if (error instanceof ApiError) return error.status;
    throw error;
  }
}

async function failure(call: Promise<unknown>): Promise<ApiError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('the sandbox Nimchat through a Chatwoot client library', () => {
  let sandbox: NimchatSandbox;
  let agent: ChatwootClient;
  let admin: ChatwootClient;
  beforeEach(async () => {
    sandbox = new NimchatSandbox();
    await sandbox.start();
    agent = new ChatwootClient({ config: config(sandbox.baseUrl, { token: sandbox.agentToken }) });
    admin = new ChatwootClient({ config: config(sandbox.baseUrl, { token: sandbox.adminToken }) });
  });
  afterEach(async () => {
    await sandbox.close();
  });

  /** A contact with an email in inbox 1 and one conversation of it; returns their ids. */
  async function contactWithConversation(name: string, email: string, sourceId?: string): Promise<{ contactId: number; conversationId: number; sourceId: string }> {
    const created: Json = await agent.contacts.create({ accountId: 1, data: { inbox_id: 1, name, email } });
    const contactId = created.payload.contact.id as number;
    const conv: Json = await agent.conversations.create({ accountId: 1, data: { inbox_id: '1', contact_id: String(contactId), ...(sourceId ? { source_id: sourceId } : {}) } });
    return { contactId, conversationId: conv.id, sourceId: sourceId ?? created.payload.contact_inbox.source_id };
  }

  it('GET /api answers the version without a token, as clients use it to check a URL', async () => {
    const info: Json = await sdkRequest(config(sandbox.baseUrl), { method: 'GET', url: '/api' });
    expect(info).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/), queue_services: 'ok', data_services: 'ok' });
    expect(info.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it('takes the token from api_access_token, Api-Access-Token or Authorization: Bearer, and a Bearer token wins', async () => {
    const profile = (auth: Partial<ChatwootAPIConfig>) => new ChatwootClient({ config: config(sandbox.baseUrl, auth) }).profile.profile();
    // the SDK itself sends Authorization: Bearer and api_access_token
    expect(((await profile({ token: sandbox.agentToken })) as Json).email).toBe('sam@sandbox.test');
    expect(((await profile({ headers: { 'Api-Access-Token': sandbox.agentToken } })) as Json).email).toBe('sam@sandbox.test');
    expect(((await profile({ headers: { api_access_token: sandbox.agentToken } })) as Json).email).toBe('sam@sandbox.test');
    expect(((await profile({ headers: { Authorization: `Bearer ${sandbox.adminToken}` } })) as Json).email).toBe('admin@sandbox.test');
    expect(await statusOf(profile({ headers: { Authorization: 'Bearer not-a-token', api_access_token: sandbox.agentToken } }))).toBe(401);
    expect(await statusOf(profile({ headers: { 'Api-Access-Token': 'not-a-token' } }))).toBe(401);
  });

  it('contacts: create in an inbox, list (contacts with an email, phone or identifier), show, search; bad input is refused and creates nothing', async () => {
    const created: Json = await agent.contacts.create({ accountId: 1, data: { inbox_id: 1, name: 'Ada Lovelace', email: 'Ada@Example.com', custom_attributes: { plan: 'pro' } } });
    expect(created.payload.contact).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com', blocked: false, availability_status: 'offline', custom_attributes: { plan: 'pro' } });
    expect(created.payload.contact.contact_inboxes).toEqual([{ source_id: created.payload.contact_inbox.source_id, inbox: expect.objectContaining({ id: 1, channel_type: 'Channel::Api' }) }]);
    expect(created.payload.contact_inbox.inbox).toMatchObject({ id: 1, account_id: 1, channel_type: 'Channel::Api' });
    // a contact known only by a name (as the widget makes them) is not in the list
    await sdkRequest(config(sandbox.baseUrl, { token: sandbox.agentToken }), { method: 'POST', url: '/api/v1/accounts/1/contacts', body: { name: 'Anonymous visitor' } });

    const list: Json = await agent.contacts.list({ accountId: 1 });
    expect(list.meta).toEqual({ count: 1, current_page: 1 });
    expect(list.payload.map((c: Json) => c.name)).toEqual(['Ada Lovelace']);
    const shown: Json = await agent.contacts.get({ accountId: 1, id: created.payload.contact.id });
    expect(shown.payload).toMatchObject({ id: created.payload.contact.id, email: 'ada@example.com', contact_inboxes: [expect.objectContaining({ source_id: expect.any(String) })] });
    const found: Json = await agent.contacts.search({ accountId: 1, q: 'ADA' });
    expect(found.payload.map((c: Json) => c.id)).toEqual([created.payload.contact.id]);
    expect((await agent.contacts.search({ accountId: 1, q: 'visitor' }) as Json).payload.map((c: Json) => c.name)).toEqual(['Anonymous visitor']);

    const before = sandbox.state.contacts.size;
    const duplicate = await failure(agent.contacts.create({ accountId: 1, data: { inbox_id: 1, name: 'Ada again', email: 'ada@example.com' } }));
    expect(duplicate.status).toBe(422);
    expect(duplicate.body).toEqual({ message: 'Email has already been taken', attributes: ['email'] });
    expect((await failure(agent.contacts.create({ accountId: 1, data: { inbox_id: 1, phone_number: '12345' } }))).body.attributes).toEqual(['phone_number']);
    expect((await failure(agent.contacts.create({ accountId: 1, data: { inbox_id: 99, name: 'Nowhere', email: 'no@example.com' } }))).status).toBe(404);
    expect((await failure(agent.contacts.search({ accountId: 1, q: '' }))).status).toBe(422);
    expect((await failure(agent.contacts.get({ accountId: 1, id: 999 }))).status).toBe(404);
    expect(sandbox.state.contacts.size).toBe(before);
  });

  it('conversations.create honours inbox_id, contact_id and source_id (or source_id alone), and show answers the application-API shape', async () => {
    const contact: Json = await agent.contacts.create({ accountId: 1, data: { inbox_id: 1, name: 'Bo', email: 'bo@example.com' } });
    const contactId = contact.payload.contact.id as number;
    const conv: Json = await agent.conversations.create({
      accountId: 1,
      data: { inbox_id: '1', contact_id: String(contactId), source_id: 'crm-4711', custom_attributes: { order: 'A-1' }, ...{ message: { content: 'Your order shipped' } } },
    });
    expect(conv).toMatchObject({ id: expect.any(Number), account_id: 1, inbox_id: 1, custom_attributes: { order: 'A-1' }, status: 'open' });
    const ci = sandbox.state.contactInbox(sandbox.state.conversation(conv.id).contactInboxId);
    expect(ci).toMatchObject({ sourceId: 'crm-4711', contactId, inboxId: 1 });
    // source_id alone finds the same contact inbox
    const again: Json = await agent.conversations.create({ accountId: 1, data: { source_id: 'crm-4711' } });
    expect(sandbox.state.conversation(again.id).contactInboxId).toBe(ci.id);
    expect((await failure(agent.conversations.create({ accountId: 1, data: { source_id: 'unknown' } }))).status).toBe(404);
    expect((await failure(agent.conversations.create({ accountId: 1, data: { inbox_id: '99', contact_id: String(contactId) } }))).status).toBe(404);

    const shown: Json = await agent.conversations.get({ accountId: 1, conversationId: conv.id });
    expect(shown).toMatchObject({
      id: conv.id,
      account_id: 1,
      uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      muted: false,
      can_reply: true,
      agent_last_seen_at: 0,
      assignee_last_seen_at: 0,
      contact_last_seen_at: 0,
      inbox_id: 1,
      labels: [],
      first_reply_created_at: expect.any(Number),
      last_non_activity_message: expect.objectContaining({ content: 'Your order shipped', message_type: 1, sender_type: 'User', sender: expect.objectContaining({ id: 2, type: 'user' }) }),
      meta: { sender: expect.objectContaining({ id: contactId, name: 'Bo', email: 'bo@example.com' }), channel: 'Channel::Api', hmac_verified: false },
    });
    expect(shown).not.toHaveProperty('channel');
    expect(shown.meta).not.toHaveProperty('assignee');
  });

  it('assignments answer the agent or the team record, and the conversation shows them in meta', async () => {
    const { conversationId } = await contactWithConversation('Cy', 'cy@example.com');
    const assigned: Json = await agent.conversationAssignment.assign({ accountId: 1, conversationId, data: { assignee_id: 2 } });
    expect(assigned).toEqual({
      id: 2,
      account_id: 1,
      availability_status: 'online',
      auto_offline: true,
      confirmed: true,
      email: 'sam@sandbox.test',
      provider: 'email',
      available_name: 'Sam Agent',
      name: 'Sam Agent',
      role: 'agent',
      thumbnail: '',
    });
    const team: Json = await agent.conversationAssignment.assign({ accountId: 1, conversationId, data: { team_id: 1 } });
    expect(team).toMatchObject({ id: 1, name: 'Support', description: expect.any(String), allow_auto_assign: true, account_id: 1, created_at: expect.any(String) });
    const shown: Json = await agent.conversations.get({ accountId: 1, conversationId });
    expect(shown.meta.assignee).toMatchObject({ id: 2, role: 'agent', email: 'sam@sandbox.test' });
    expect(shown.meta.team).toEqual({ id: 1, name: 'Support', description: expect.any(String), allow_auto_assign: true, account_id: 1, is_member: true });
    // an agent the account does not know unassigns, as on the real server
    expect(await agent.conversationAssignment.assign({ accountId: 1, conversationId, data: { assignee_id: 999 } })).toBeNull();
    expect(sandbox.state.conversation(conversationId).assigneeId).toBeNull();
  });

  it('the messages list carries labels, contact and assignee; an agent reply sets first_reply_created_at', async () => {
    const { conversationId, contactId } = await contactWithConversation('Di', 'di@example.com');
    await agent.conversationLabels.add({ accountId: 1, conversationId, data: { labels: ['billing'] } });
    await agent.conversationAssignment.assign({ accountId: 1, conversationId, data: { assignee_id: 2 } });
    expect(((await agent.conversations.get({ accountId: 1, conversationId })) as Json).first_reply_created_at).toBe(0);
    const note: Json = await agent.messages.create({ accountId: 1, conversationId, data: { content: 'internal', private: true } });
    expect(note).toMatchObject({ content: 'internal', private: true, message_type: 1, status: 'sent' });
    expect(((await agent.conversations.get({ accountId: 1, conversationId })) as Json).first_reply_created_at).toBe(0); // a private note is no reply
    await agent.messages.create({ accountId: 1, conversationId, data: { content: 'Hello Di' } });
    const shown: Json = await agent.conversations.get({ accountId: 1, conversationId });
    expect(shown.first_reply_created_at).toBeGreaterThan(0);
    expect(shown.waiting_since).toBe(0);

    const list: Json = await agent.messages.list({ accountId: 1, conversationId });
    expect(list.meta).toMatchObject({
      labels: ['billing'],
      additional_attributes: {},
      contact: expect.objectContaining({ id: contactId, name: 'Di', type: 'contact' }),
      assignee: expect.objectContaining({ id: 2, name: 'Sam Agent', type: 'user' }),
    });
    expect(list.payload.map((m: Json) => [m.content, m.private])).toEqual([
      ['internal', true],
      ['Hello Di', false],
    ]);
  });

  it('the webhook payload keeps the push shape: channel at the top level, first_reply_created_at as a time', async () => {
    const received: Json[] = [];
    const hook = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    try {
      const bot = sandbox.state.createBot({ name: 'hook', outgoing_url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/` });
      sandbox.state.inboxes[0]!.agentBotId = bot.id;
      const { conversationId } = await contactWithConversation('Ed', 'ed@example.com');
      await agent.messages.create({ accountId: 1, conversationId, data: { content: 'Hi Ed' } });
      await sandbox.idle();
      const created = received.find((p) => p.event === 'message_created' && p.content === 'Hi Ed');
      expect(created.conversation).toMatchObject({ channel: 'Channel::Api', first_reply_created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), meta: { assignee: null } });
    } finally {
      hook.closeAllConnections();
      await new Promise<void>((resolve) => hook.close(() => resolve()));
    }
  });

  it('the conversation list filters by status, assignee_type, inbox, team and page, with Chatwoot counts; meta answers the counts', async () => {
    const a = await contactWithConversation('Fa', 'fa@example.com');
    const b = await contactWithConversation('Gi', 'gi@example.com');
    const c = await contactWithConversation('Ha', 'ha@example.com');
    await agent.conversationAssignment.assign({ accountId: 1, conversationId: a.conversationId, data: { assignee_id: 2 } });
    await agent.conversationAssignment.assign({ accountId: 1, conversationId: b.conversationId, data: { assignee_id: 1 } });
    await agent.conversationAssignment.assign({ accountId: 1, conversationId: b.conversationId, data: { team_id: 1 } });
    await agent.conversations.toggleStatus({ accountId: 1, conversationId: c.conversationId, data: { status: 'resolved' } });

    const ids = (r: Json) => r.data.payload.map((x: Json) => x.id).sort();
    const open: Json = await agent.conversations.list({ accountId: 1 });
    expect(open.data.meta).toEqual({ mine_count: 1, assigned_count: 2, unassigned_count: 0, all_count: 2 });
    expect(ids(open)).toEqual([a.conversationId, b.conversationId].sort());
    expect(open.data.payload[0]).toMatchObject({ account_id: 1, meta: expect.objectContaining({ channel: 'Channel::Api' }) });
    expect(ids(await agent.conversations.list({ accountId: 1, assigneeType: 'me' }))).toEqual([a.conversationId]);
    expect(ids(await agent.conversations.list({ accountId: 1, status: 'resolved' }))).toEqual([c.conversationId]);
    expect(ids(await agent.conversations.list({ accountId: 1, status: 'resolved', assigneeType: 'unassigned' }))).toEqual([c.conversationId]);
    expect(ids(await agent.conversations.list({ accountId: 1, status: ALL }))).toHaveLength(3);
    expect(ids(await agent.conversations.list({ accountId: 1, teamId: 1 }))).toEqual([b.conversationId]);
    expect(ids(await agent.conversations.list({ accountId: 1, inboxId: 99 }))).toEqual([]);
    expect(ids(await agent.conversations.list({ accountId: 1, page: 2 }))).toEqual([]);
    expect((await failure(agent.conversations.list({ accountId: 1, teamId: 99 }))).status).toBe(404);

    const meta: Json = await agent.conversations.getMeta({ accountId: 1, status: ALL });
    expect(meta).toEqual({ data: { meta: { mine_count: 1, assigned_count: 2, unassigned_count: 1, all_count: 3 } } });
    // as the administrator, "mine" is what is assigned to Alex
    expect(((await admin.conversations.getMeta({ accountId: 1 })) as Json).data.meta.mine_count).toBe(1);
  });

  it('agents, teams, a team and its members, as the account shows them', async () => {
    const agents: Json = await agent.agents.list({ accountId: 1 });
    expect(agents.map((x: Json) => [x.name, x.role])).toEqual([
      ['Alex Admin', 'administrator'],
      ['Sam Agent', 'agent'],
    ]);
    expect(agents[1]).toMatchObject({ account_id: 1, email: 'sam@sandbox.test', available_name: 'Sam Agent', confirmed: true });
    expect(await agent.teams.list({ accountId: 1 })).toEqual([{ id: 1, name: 'Support', description: expect.any(String), allow_auto_assign: true, account_id: 1, is_member: true }]);
    expect(((await admin.teams.get({ accountId: 1, teamId: 1 })) as Json).is_member).toBe(false);
    expect((await failure(agent.teams.get({ accountId: 1, teamId: 99 }))).status).toBe(404);
    // The SDK's listMembers leaves `/api/v1` out of its path; a client rooted there reaches the real route.
    const rooted = new ChatwootClient({ config: config(`${sandbox.baseUrl}/api/v1`, { token: sandbox.agentToken }) });
    const members: Json = await rooted.teams.listMembers({ accountId: 1, teamId: 1 });
    expect(members.map((m: Json) => m.id)).toEqual([2]);
  });

  it('an inbox shows its working hours, timezone and out-of-office message; the public API shows the inbox too', async () => {
    const inbox: Json = await agent.inboxes.get({ accountId: 1, id: 1 }); // the SDK adds a trailing slash
    expect(inbox).toMatchObject({
      id: 1,
      name: 'Sandbox Support',
      channel_type: 'Channel::Api',
      inbox_identifier: 'sandbox-inbox',
      working_hours_enabled: false,
      timezone: 'UTC',
      out_of_office_message: null,
      greeting_enabled: false,
      enable_auto_assignment: true,
    });
    expect(inbox.working_hours).toHaveLength(7);
    expect(inbox.working_hours[1]).toEqual({ day_of_week: 1, closed_all_day: false, open_hour: 9, open_minutes: 0, close_hour: 17, close_minutes: 0, open_all_day: false });
    expect(inbox.working_hours[0]).toMatchObject({ day_of_week: 0, closed_all_day: true });
    expect(inbox).not.toHaveProperty('hmac_token'); // administrators only
    expect(((await admin.inboxes.get({ accountId: 1, id: 1 })) as Json).hmac_token).toEqual(expect.any(String));
    expect(((await agent.inboxes.list({ accountId: 1 })) as Json).payload.map((i: Json) => i.id)).toEqual([1]);
    expect((await failure(agent.inboxes.get({ accountId: 1, id: 99 }))).status).toBe(404);

    const pub: Json = await sdkRequest(config(sandbox.baseUrl), { method: 'GET', url: '/public/api/v1/inboxes/sandbox-inbox' });
    expect(pub).toMatchObject({ identifier: 'sandbox-inbox', name: 'Sandbox Support', timezone: 'UTC', working_hours_enabled: false, working_hours: expect.any(Array) });
    expect(await statusOf(sdkRequest(config(sandbox.baseUrl), { method: 'GET', url: '/public/api/v1/inboxes/nope' }))).toBe(404);

    // and the client API of the same library plays the customer (its field is typed `{}`)
    const customer = agent.client as unknown as { contacts: ContactsApi; conversations: ConversationsApi; messages: MessagesApi };
    const visitor: Json = await customer.contacts.create({ inboxIdentifier: 'sandbox-inbox', data: { name: 'Walk-in' } });
    const conversation: Json = await customer.conversations.create({ inboxIdentifier: 'sandbox-inbox', contactIdentifier: visitor.source_id });
    await customer.messages.create({ inboxIdentifier: 'sandbox-inbox', contactIdentifier: visitor.source_id, conversationId: conversation.id, data: { content: 'Anyone there?' } });
    const seen: Json = await agent.messages.list({ accountId: 1, conversationId: conversation.id });
    expect(seen.payload.map((m: Json) => [m.content, m.message_type])).toEqual([['Anyone there?', 0]]);
  });

  describe("Chatwoot's input rules, with the bodies clients such as n8n's Chatwoot node send", () => {
    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const res = await fetch(`${sandbox.baseUrl}${path}`, { method, headers: { api_access_token: token, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as Json };
    };

    it('an assignment: assignee_id present decides (team_id 0 beside it is ignored); 0 or blank unassigns and answers null; team_id alone 0 clears the team', async () => {
      const { conversationId } = await contactWithConversation('Ny', 'ny@example.com');
      const path = `/api/v1/accounts/1/conversations/${conversationId}/assignments`;
      expect(await call('POST', path, sandbox.agentToken, { assignee_id: 2, team_id: 0 })).toMatchObject({ status: 200, body: { id: 2, role: 'agent' } });
      expect(sandbox.state.conversation(conversationId).assigneeId).toBe(2);
      await call('POST', path, sandbox.agentToken, { team_id: 1 });
      expect(await call('POST', path, sandbox.agentToken, { assignee_id: 0, team_id: 0 })).toEqual({ status: 200, body: null });
      expect(sandbox.state.conversation(conversationId)).toMatchObject({ assigneeId: null, teamId: 1 }); // the team branch did not run
      expect(await call('POST', path, sandbox.agentToken, { team_id: 0 })).toEqual({ status: 200, body: null });
      expect(sandbox.state.conversation(conversationId).teamId).toBeNull();
      await call('POST', path, sandbox.agentToken, { assignee_id: 2 });
      expect(await call('POST', path, sandbox.agentToken, { assignee_id: '' })).toEqual({ status: 200, body: null });
      expect(sandbox.state.conversation(conversationId).assigneeId).toBeNull();
    });

    it('a new conversation: blank ids are as if not sent', async () => {
      const { contactId } = await contactWithConversation('Ola', 'ola@example.com', 'crm-1');
      const bySource = await call('POST', '/api/v1/accounts/1/conversations', sandbox.agentToken, { source_id: 'crm-1', inbox_id: '1', contact_id: '', assignee_id: '', team_id: '' });
      expect(bySource.status).toBe(200);
      expect(sandbox.state.conversation(bySource.body.id)).toMatchObject({ contactId, assigneeId: null, teamId: null });
      const byContact = await call('POST', '/api/v1/accounts/1/conversations', sandbox.agentToken, { inbox_id: 1, contact_id: contactId, assignee_id: '', team_id: 0, status: '' });
      expect(byContact.status).toBe(200);
      expect(sandbox.state.conversation(byContact.body.id)).toMatchObject({ assigneeId: null, teamId: null, status: 'open' });
      expect((await call('POST', '/api/v1/accounts/1/conversations', sandbox.agentToken, { inbox_id: 1, contact_id: '' })).status).toBe(404); // nothing to find it by
    });

    it("agents read the agent bots (without their token or secret); administrators see those; the bot's fields are Chatwoot's", async () => {
      const bot = sandbox.state.createBot({ name: 'Helper', outgoing_url: 'http://127.0.0.1:9/hook' });
      const listed = await call('GET', '/api/v1/accounts/1/agent_bots', sandbox.agentToken);
      expect(listed.status).toBe(200);
      expect(listed.body).toEqual([{ id: bot.id, name: 'Helper', description: bot.description, thumbnail: '', outgoing_url: 'http://127.0.0.1:9/hook', bot_type: 'webhook', bot_config: {}, account_id: 1, system_bot: false }]);
      expect((await call('GET', `/api/v1/accounts/1/agent_bots/${bot.id}`, sandbox.agentToken)).body).not.toHaveProperty('access_token');
      expect((await call('GET', `/api/v1/accounts/1/agent_bots/${bot.id}`, sandbox.adminToken)).body).toMatchObject({ access_token: bot.accessToken, system_bot: false });
      expect((await call('PATCH', `/api/v1/accounts/1/agent_bots/${bot.id}`, sandbox.agentToken, { name: 'x' })).status).toBe(401);
    });

    it("a message's content type and attributes are validated as Chatwoot's model does: 422 with the reason, nothing stored", async () => {
      const { conversationId } = await contactWithConversation('Pia', 'pia@example.com');
      const path = `/api/v1/accounts/1/conversations/${conversationId}/messages`;
      const send = (body: Record<string, unknown>) => call('POST', path, sandbox.agentToken, { content: 'Pick one', ...body });
      const before = sandbox.state.conversation(conversationId).messages.length;
      const refused = [
        [{ content_type: 'cards', content_attributes: {} }, /At least one item is required/],
        [{ content_type: 'input_select', content_attributes: { items: [] } }, /At least one item is required/],
        [{ content_type: 'input_select', content_attributes: { items: [{ title: 'A', value: 'a', colour: 'red' }] } }, /invalid keys for items : \[:colour\]/],
        [{ content_type: 'input_select', content_attributes: { items: 'nope' } }, /items/],
        [{ content_type: 'input_select', content_attributes: { items: ['a'] } }, /Items should be a hash/],
        [{ content_type: 'cards', content_attributes: { items: [{ title: 'No buttons' }] } }, /missing actions/],
        [{ content_type: 'cards', content_attributes: { items: [{ title: 'T', actions: [{ text: 'Go', type: 'link', uri: 'https://x.test', target: '_blank' }] }] } }, /invalid keys for actions/],
        [{ content_type: 'bogus' }, /'bogus' is not a valid content_type/],
      ] as const;
      for (const [body, reason] of refused) {
        const answer = await send(body);
        expect(answer.status, JSON.stringify(body)).toBe(422);
        expect(answer.body.error, JSON.stringify(body)).toMatch(reason);
      }
      expect(sandbox.state.conversation(conversationId).messages.length).toBe(before);
      expect((await send({ content_type: 'input_select', content_attributes: { items: [{ title: 'A', value: 'a' }] } })).status).toBe(200);
      expect((await send({ content_type: 'cards', content_attributes: { items: [{ title: 'T', description: 'D', media_url: 'https://x.test/i.png', actions: [{ text: 'Go', type: 'link', uri: 'https://x.test' }] }] } })).status).toBe(200);
    });

    it('a public contact update ignores blank values and answers the contact record; a public conversation carries its uuid and last-seen times; the profile its token and accounts', async () => {
      const identifier = sandbox.inboxIdentifier;
      const created = await (await fetch(`${sandbox.baseUrl}/public/api/v1/inboxes/${identifier}/contacts`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'Quin', email: 'quin@example.com' }) })).json() as Json;
      const contactPath = `/public/api/v1/inboxes/${identifier}/contacts/${created.source_id}`;
      const patched = await fetch(`${sandbox.baseUrl}${contactPath}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: '', name: 'Quin Q', custom_attributes: { plan: 'pro' } }) });
      expect(patched.status).toBe(200);
      const record = (await patched.json()) as Json;
      expect(record).toMatchObject({ id: created.id, email: 'quin@example.com', name: 'Quin Q', custom_attributes: { plan: 'pro' }, blocked: false, account_id: 1 });
      const conversation = (await (await fetch(`${sandbox.baseUrl}${contactPath}/conversations`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).json()) as Json;
      expect(conversation).toMatchObject({ id: expect.any(Number), uuid: expect.stringMatching(/^[0-9a-f-]{36}$/), inbox_id: 1, contact_last_seen_at: 0, agent_last_seen_at: 0, status: expect.any(String), messages: [] });
      const profile = (await call('GET', '/api/v1/profile', sandbox.agentToken)).body;
      expect(profile).toMatchObject({ id: 2, access_token: sandbox.agentToken, available_name: 'Sam Agent', type: 'User', role: 'agent', accounts: [expect.objectContaining({ id: 1, role: 'agent', availability_status: 'online' })] });
    });
  });

  it('a bot token still gets 401 outside its allow-list', async () => {
    const bot = sandbox.state.createBot({ name: 'b', outgoing_url: '' });
    const asBot = new ChatwootClient({ config: config(sandbox.baseUrl, { token: bot.accessToken }) });
    expect(await statusOf(asBot.conversations.list({ accountId: 1 }))).toBe(401);
    expect(await statusOf(asBot.contacts.list({ accountId: 1 }))).toBe(401);
    expect(await statusOf(asBot.agents.list({ accountId: 1 }))).toBe(401);
  });
});
