/** The example bot on Nimchat end to end: handoff, silence, release, failures, proactive messages. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { TurnContext } from 'botbuilder-core';
import { startHarness, type Harness } from '../../helpers/harness';
import { messageCreated, postSigned } from '../../helpers/payloads';
import { eventually } from '../../helpers/console-client';
import { NotSupportedError } from '../../../src/errors';
import { NimchatSandbox } from '../../../src/sandbox/nimchat/nimchat-sandbox';
import { HANDOFF_FAILED_TEXT } from '../../../src/bot/support-bot';
import { STILL_LOOKING_TEXT } from '../../../dialogs/handoff-wait/wait-notices';
import { FACES } from '../../helpers/faces';

const MENU = 'How can I help you today?';

describe.each(FACES)('handoff on Nimchat, the example bot on %s', (face) => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('reply → private note with transcript → assignment → toggle_status open, then silence until pending again', async () => {
    h = await startHarness({ face, env: { NIMCHAT_HANDOFF_TEAM_ID: '1' } });
    const c = await h.customer('Ada');
    await c.say('hello');
    await h.settle();
    await c.say('I need to talk to a person');
    await h.settle();

    expect(h.botCalls(c.conversationId)).toEqual(['POST /messages', 'POST /messages', 'POST /messages', 'POST /assignments', 'POST /toggle_status']);
    const bodies = h.sandbox.calls.filter((x) => x.by === 'bot').map((x) => x.body);
    expect(bodies[1]!.content).toMatch(/human/);
    expect(bodies[1]!.private).toBe(false);
    const note = bodies[2]!;
    expect(note.private).toBe(true);
    expect(String(note.content)).toMatch(/^Handoff/);
    expect(String(note.content)).toContain(
      ['Customer: hello', `Bot: ${MENU} [Talk to a human | Leave a message]`, 'Customer: I need to talk to a person'].join('\n'),
    );
    expect(bodies[3]).toEqual({ team_id: 1 });
    expect(bodies[4]).toEqual({ status: 'open' });
    const conv = h.sandbox.state.conversation(c.conversationId);
    expect(conv.status).toBe('open');
    expect(conv.teamId).toBe(1);
    expect(h.sandbox.state.handoffs).toHaveLength(1); // recorded as a bot handoff
    expect(h.bot.seen.some((a) => a.name === 'handoff.status' && (a.value as { state: string }).state === 'accepted')).toBe(true);

    // Waiting for a human: one wait notice (no NIMCHAT_API_TOKEN here: no queue position), then silence.
    const before = (await c.received()).length;
    await c.say('hello? anyone?');
    await h.settle();
    await c.say('still there?');
    await h.settle();
    expect((await c.received()).slice(before)).toEqual([STILL_LOOKING_TEXT]);
    expect(h.bot.seen.filter((a) => a.type === 'message').map((a) => a.text)).toEqual(['hello', 'I need to talk to a person']);

    await h.agentSetStatus(c.conversationId, 'pending');
    await h.settle();
    expect(h.bot.seen.some((a) => a.name === 'handoff.status' && (a.value as { state: string }).state === 'completed')).toBe(true);
    await c.say('thanks, one more thing');
    await h.settle();
    expect((await c.received()).slice(-1)).toEqual([MENU]);
  });

  it('an agent assignment is made when an agent is configured, and the menu choice reaches the bot as its value', async () => {
    h = await startHarness({ face, env: { NIMCHAT_HANDOFF_AGENT_ID: '2' } });
    const c = await h.customer();
    await c.say('hi');
    await h.settle();
    const menu = (await c.messages()).find((m) => m.content === MENU)!;
    expect(menu.content_type).toBe('input_select');
    // the web widget answers an input_select by updating the message's submitted_values
    await axios.patch(`${h.sandbox.baseUrl}/public/api/v1/inboxes/${h.sandbox.inboxIdentifier}/contacts/${c.sourceId}/conversations/${c.conversationId}/messages/${menu.id}`, {
      submitted_values: [{ title: 'Talk to a human', value: 'human' }],
    });
    await h.settle();
    expect(h.bot.seen.filter((a) => a.type === 'message').map((a) => a.text)).toEqual(['hi', 'human']);
    const conv = h.sandbox.state.conversation(c.conversationId);
    expect(conv.assigneeId).toBe(2);
    expect(conv.status).toBe('open');
    expect(h.botCalls(c.conversationId)).toEqual(['POST /messages', 'POST /messages', 'POST /messages', 'POST /assignments', 'POST /toggle_status']);
  });

  it("a human agent's public messages are in the transcript as Agent lines, in order, and reach the next handoff note", async () => {
    h = await startHarness({ face });
    const c = await h.customer();
    await c.say('human');
    await h.settle();
    await h.agentSay(c.conversationId, 'Hi, Sam here. How can I help?');
    await h.settle();
    await c.say('thanks Sam');
    await h.settle();
    await h.agentSetStatus(c.conversationId, 'pending');
    await h.settle();
    await c.say('I need a person again');
    await h.settle();
    const notes = h.sandbox.state.conversation(c.conversationId).messages.filter((m) => m.private).map((m) => m.content ?? '');
    expect(notes).toHaveLength(2);
    const lines = notes[1]!.split('\n');
    const agent = lines.findIndex((l) => /^Agent: Hi, Sam here/.test(l));
    expect(agent).toBeGreaterThan(0);
    expect(lines[agent + 1]).toBe('Customer: thanks Sam');
  });

  it("a human agent's public message silences the bot even while the status is still pending", async () => {
    h = await startHarness({ face });
    const c = await h.customer();
    await c.say('hi');
    await h.settle();
    await h.agentSay(c.conversationId, 'Hi, Sam here, I will help you');
    await h.settle();
    await c.say('great, my order is late');
    await h.settle();
    expect(h.sandbox.state.conversation(c.conversationId).status).toBe('pending');
    expect(await c.received()).toEqual([MENU, 'Hi, Sam here, I will help you']);
    expect(h.bot.seen.some((a) => a.name === 'conversation.agentMessage')).toBe(true);
    expect(h.bot.seen.filter((a) => a.type === 'message').map((a) => a.text)).toEqual(['hi']);
  });

  it('a failed handoff is reported to the bot as handoff.status failed, and the customer is told', async () => {
    h = await startHarness({ face });
    h.sandbox.faults.push({ method: 'POST', path: /toggle_status$/, status: 404, body: { error: 'Resource could not be found' }, times: 1 });
    const c = await h.customer();
    await c.say('agent please');
    await h.settle();
    const failed = h.bot.seen.find((a) => a.name === 'handoff.status');
    expect(failed?.value).toMatchObject({ state: 'failed' });
    expect((await c.received()).slice(-1)).toEqual([HANDOFF_FAILED_TEXT]);
    // the bot still owns the conversation: it keeps answering
    await c.say('hello');
    await h.settle();
    expect((await c.received()).slice(-1)).toEqual([MENU]);
  });

  it('a 429 is retried by the outbox, not before its Retry-After, and the reply arrives once', async () => {
    h = await startHarness({ face, app: { outbox: { baseDelayMs: 10, maxDelayMs: 20 } } });
    h.sandbox.faults.push({ method: 'POST', path: /^\/api\/v1\/accounts\/1\/conversations\/\d+\/messages$/, status: 429, headers: { 'Retry-After': '1' }, times: 1 });
    const c = await h.customer();
    const started = Date.now();
    await c.say('hi');
    // A retry waits in the outbox (settle does not wait for it).
    await eventually(async () => (await c.received()).length > 0, 8000, 'the reply');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(await c.received()).toEqual([MENU]);
    expect(h.botCalls(c.conversationId).filter((x) => x === 'POST /messages')).toHaveLength(2);
  });

  it('the outbox is the only retry layer: a reply whose POST fails costs one POST per outbox attempt', async () => {
    h = await startHarness({ face, app: { outbox: { baseDelayMs: 10, maxDelayMs: 20 } } });
    h.sandbox.faults.push({ method: 'POST', path: /^\/api\/v1\/accounts\/1\/conversations\/\d+\/messages$/, status: 500, times: 2 });
    const c = await h.customer();
    await c.say('hi');
    await eventually(async () => (await c.received()).length > 0, 8000, 'the reply');
    await h.settle();
    expect(await c.received()).toEqual([MENU]);
    expect(h.botCalls(c.conversationId).filter((x) => x === 'POST /messages')).toHaveLength(3);
    expect(await h.app.metrics.text()).toMatch(/handoff_outbox_retries_total\{platform="nimchat",kind="message"\} 2/);
  });

  it('a reply Nimchat refuses for good (422) reaches the bot as conversation.deliveryFailed with the platform message', async () => {
    h = await startHarness({ face });
    h.sandbox.faults.push({ method: 'POST', path: /^\/api\/v1\/accounts\/1\/conversations\/\d+\/messages$/, status: 422, body: { error: 'Too many messages' }, times: 1 });
    const c = await h.customer();
    await c.say('hi');
    await h.settle();
    const failed = h.bot.seen.filter((a) => a.name === 'conversation.deliveryFailed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.value).toMatchObject({ kind: 'message', message: expect.stringMatching(/HTTP 422: Too many messages/) });
    expect(typeof (failed[0]!.value as { activityId: string }).activityId).toBe('string');
    expect(await c.received()).toEqual([]);
    expect(await h.app.metrics.text()).toMatch(/handoff_outbox_failed_total\{platform="nimchat",kind="message"\} 1/);
  });

  it('continueConversation sends a proactive message into the conversation', async () => {
    h = await startHarness({ face });
    const c = await h.customer();
    await c.say('hi');
    await h.settle();
    const first = h.bot.seen.find((a) => a.type === 'message')!;
    const reference = TurnContext.getConversationReference(first);
    await h.app.nimchat!.continueConversation(reference, async (ctx) => {
      expect(ctx.activity.name).toBe('ContinueConversation');
      await ctx.sendActivity('Your order has shipped.');
    });
    await h.app.nimchat!.continueConversationAsync('app-id', reference, async (ctx) => {
      await ctx.sendActivity('Tracking: 123');
    });
    await h.settle();
    expect(await c.received()).toEqual([MENU, 'Your order has shipped.', 'Tracking: 123']);
  });

  it('conversation.control merges labels and attributes, sets priority, and refuses fields Nimchat lacks', async () => {
    h = await startHarness({ face });
    const c = await h.customer();
    await c.say('hi');
    await h.settle();
    const conv = h.sandbox.state.conversation(c.conversationId);
    conv.labels = ['existing'];
    conv.custom_attributes = { plan: 'gold' };
    const reference = TurnContext.getConversationReference(h.bot.seen.find((a) => a.type === 'message')!);
    await h.app.nimchat!.continueConversation(reference, async (ctx) => {
      await ctx.sendActivity({ type: 'event', name: 'conversation.control', value: { addLabels: ['vip'], priority: 'high', customAttributes: { order: 42 }, note: 'checked' } });
    });
    await h.settle();
    expect(conv.labels).toEqual(['existing', 'vip']);
    expect(conv.custom_attributes).toEqual({ plan: 'gold', order: 42 });
    expect(conv.priority).toBe('high');
    const errors: unknown[] = [];
    h.app.nimchat!.onTurnError = async (_ctx, error) => {
      errors.push(error);
    };
    await h.app.nimchat!.continueConversation(reference, async (ctx) => {
      await ctx.sendActivity({ type: 'event', name: 'conversation.control', value: { folder: 'vip', title: 'x' } });
    });
    expect(errors[0]).toBeInstanceOf(NotSupportedError);
    expect(String((errors[0] as Error).message)).toMatch(/folder, title/);
    await h.app.nimchat!.continueConversation(reference, async (ctx) => {
      await ctx.sendActivity({ type: 'event', name: 'conversation.control', value: { priorty: 'high' } });
    });
    expect(String((errors[1] as Error).message)).toMatch(/priorty/);
  });

  it('on shutdown: readyz turns 503, new webhooks get 500 (redelivered later), queued turns finish', async () => {
    h = await startHarness({ face });
    let release!: () => void;
    const started = new Promise<void>((resolve) => {
      const original = h.bot.run.bind(h.bot);
      h.bot.run = async (ctx) => {
        if (ctx.activity.type === 'message') {
          resolve();
          await new Promise<void>((r) => (release = r));
        }
        return original(ctx);
      };
    });
    const c = await h.customer();
    await c.say('hi');
    await started;
    const stopping = h.app.stop();
    const ready = await axios.get(`${h.app.url}/readyz`, { validateStatus: () => true });
    expect(ready.status).toBe(503);
    expect(ready.data).toEqual({ status: 'not ready', reason: 'shutting down' });
    const late = await postSigned(h.botUrl, h.secret, messageCreated({ id: 999 }), { delivery: 'late' });
    expect(late.status).toBe(500);
    expect(late.data.error.code).toBe('shutting_down');
    release();
    await stopping;
    expect(await c.received()).toEqual([MENU]);
  });
});

describe('sandbox Nimchat delivery rules', () => {
  it('opens a pending conversation to humans when the bot answers 500 three times', async () => {
    let hits = 0;
    const failing = http.createServer((_req, res) => {
      hits++;
      res.statusCode = 500;
      res.end();
    });
    await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
    const sandbox = new NimchatSandbox({ deliveryRetryDelayMs: 10, deliveryTimeoutMs: 1000 });
    await sandbox.start();
    try {
      const bot = sandbox.state.createBot({ name: 'b', outgoing_url: `http://127.0.0.1:${(failing.address() as AddressInfo).port}/api/nimchat` });
      sandbox.state.inboxes[0]!.agentBotId = bot.id;
      const contact = sandbox.state.createContact(sandbox.state.inboxes[0]!, { name: 'Ada' });
      const conv = sandbox.state.createConversation(contact);
      expect(conv.status).toBe('pending');
      sandbox.state.addMessage(conv, { content: 'hi', message_type: 'incoming', sender: { kind: 'contact', id: contact.id } });
      await sandbox.idle();
      await sandbox.idle();
      expect(sandbox.deliveryLog[0]!.statuses).toEqual([500, 500, 500]);
      expect(conv.status).toBe('open');
      expect(conv.messages.some((m) => m.message_type === 'activity' && /error with the agent bot/.test(m.content ?? ''))).toBe(true);
      expect(hits).toBeGreaterThanOrEqual(3);
    } finally {
      await sandbox.close();
      failing.closeAllConnections();
      await new Promise((r) => failing.close(r));
    }
  });

  it('refuses bot tokens outside the allow-list with the real message', async () => {
    const sandbox = new NimchatSandbox();
    await sandbox.start();
    try {
      const bot = sandbox.state.createBot({ name: 'b', outgoing_url: '' });
      const res = await axios.get(`${sandbox.baseUrl}/api/v1/accounts/1/conversations/1/messages`, { headers: { api_access_token: bot.accessToken }, validateStatus: () => true });
      expect(res.status).toBe(401);
      expect(res.data).toEqual({ error: 'Access to this endpoint is not authorized for bots' });
      const bad = await axios.get(`${sandbox.baseUrl}/api/v1/profile`, { headers: { api_access_token: 'nope' }, validateStatus: () => true });
      expect(bad.data).toEqual({ error: 'Invalid Access Token' });
    } finally {
      await sandbox.close();
    }
  });
});

describe.each(FACES)('example bot on %s: leave a message without ticketing', (face) => {
  it('says tickets are unavailable and offers a human, whose choice then hands off', async () => {
    const h = await startHarness({ face });
    try {
      const c = await h.customer();
      await c.say('I would like to leave a message');
      await h.settle();
      const [offer] = (await c.messages()).filter((m) => m.message_type === 1);
      expect(offer!.content).toMatch(/isn't available/);
      expect(offer!.content_attributes).toEqual({ items: [{ title: 'Talk to a human', value: 'human' }] });
      await c.say('human');
      await h.settle();
      expect(h.sandbox.state.conversation(c.conversationId).status).toBe('open');
    } finally {
      await h.close();
    }
  });
});
