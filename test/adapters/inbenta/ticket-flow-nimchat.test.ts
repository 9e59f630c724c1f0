/**
 * "Leave a message" on Nimchat end to end, with the sandbox Inbenta: the ticket and its history, the
 * close-out, failures and retries, agent answers relayed back, closed tickets, webhook checks, restart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../helpers/harness';
import { historyText, startInbenta } from '../../helpers/inbenta';
import { DESCRIPTION_PROMPT, EMAIL_PROMPT, EMAIL_RETRY_PROMPT, TICKET_FAILED_TEXT } from '../../../dialogs/ticket-dialog';
import { App } from '../../../src/app';
import { loadConfig } from '../../../src/load-config';
import { createLogger } from '../../../src/log';
import { WELCOME_BACK_TEXT } from '../../../src/bot/support-bot';
import { FACES, recordingSupportBot } from '../../helpers/faces';

const MENU = 'How can I help you today?';

describe.each(FACES)('tickets on Nimchat, the example bot on %s', (face) => {
  let h: Harness;
  let ib: Awaited<ReturnType<typeof startInbenta>>;
  const extra: Array<{ stop(): Promise<void> }> = [];

  afterEach(async () => {
    for (const e of extra.splice(0)) await e.stop();
    await h?.close();
    await ib?.inbenta.close();
  });

  async function start(env: Record<string, string> = {}, inbentaOptions: Parameters<typeof startInbenta>[0] = {}) {
    ib = await startInbenta(inbentaOptions);
    h = await startHarness({ face, env: { ...ib.env, ...env } });
    await ib.connect(h.app);
  }
  const settle = () => ib.settle(h.sandbox, h.app);

  it('creates the ticket exactly as the reference shows, with the conversation as history, tells the reference, resolves', async () => {
    await start();
    const c = await h.customer('Ada', 'ada@example.com');
    await c.say('hi');
    await settle();
    await c.say('I want to leave a message');
    await settle();
    expect((await c.received()).slice(-1)).toEqual([DESCRIPTION_PROMPT]); // the email came from Nimchat
    await c.say('My order 1234 arrived broken <b>twice</b>\nPlease help');
    await settle();

    expect(ib.inbenta.users).toEqual([expect.objectContaining({ name: 'Ada', address: 'ada@example.com' })]);
    expect(ib.inbenta.tickets).toHaveLength(1);
    const post = ib.inbenta.calls.find((x) => x.method === 'POST' && x.path === '/prod/ticketing/v1/tickets')!;
    const body = post.body as Record<string, any>;
    expect(Object.keys(body).sort()).toEqual(['autoclassify', 'creator', 'external_id', 'history', 'message', 'queue', 'source', 'title']);
    expect(body).toMatchObject({
      title: 'My order 1234 arrived broken <b>twice</b> Please help',
      message: 'My order 1234 arrived broken &lt;b&gt;twice&lt;/b&gt;<br>Please help',
      creator: ib.inbenta.users[0]!.id,
      queue: 1,
      source: 3,
      autoclassify: true,
    });
    expect(body.external_id).toMatch(/^bot-[0-9a-f]{32}$/);
    const messages = body.history.messages as Array<{ user: string; message: string }>;
    for (const m of messages) expect(m.message).toMatch(/ <small>\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\)<\/small>$/);
    expect(messages.map((m) => [m.user, historyText(m.message)])).toEqual([
      ['guest', 'hi'],
      ['assistant', `${MENU} [Talk to a human | Leave a message]`],
      ['guest', 'I want to leave a message'],
      ['assistant', DESCRIPTION_PROMPT],
      // The transcript keeps one line per message (as in a handoff note).
      ['guest', 'My order 1234 arrived broken &lt;b&gt;twice&lt;/b&gt; Please help'],
    ]);

    const reference = ib.inbenta.tickets[0]!.full_uuid;
    expect(reference).toBe('SANDBOX-00000001');
    expect((await c.received()).slice(-1)[0]).toContain(reference);
    expect(h.botCalls(c.conversationId).slice(-1)).toEqual(['POST /toggle_status']);
    expect(h.sandbox.state.conversation(c.conversationId).status).toBe('resolved');
  });

  it('asks for the email when the platform has none, re-asks on an invalid one, finds an existing Inbenta user', async () => {
    await start({ NIMCHAT_RESOLVE_ON_TICKET: 'false' });
    ib.inbenta.users.push({ id: 500, name: 'Bo', address: 'bo@example.com', hash_uuid: 'h' });
    const c = await h.customer('Bo');
    await c.say('ticket');
    await settle();
    expect((await c.received()).slice(-1)).toEqual([EMAIL_PROMPT]);
    await c.say('not an email');
    await settle();
    expect((await c.received()).slice(-1)).toEqual([EMAIL_RETRY_PROMPT]);
    await c.say('bo@example.com');
    await settle();
    expect((await c.received()).slice(-1)).toEqual([DESCRIPTION_PROMPT]);
    await c.say('The app crashes on login');
    await settle();
    expect(ib.inbenta.users).toHaveLength(1);
    expect(ib.inbenta.tickets[0]!.creator).toBe(500);
    expect(h.botCalls(c.conversationId)).not.toContain('POST /toggle_status'); // NIMCHAT_RESOLVE_ON_TICKET=false
  });

  it('Inbenta down: the customer is told plainly and offered a retry or a human; the retry makes one ticket with everything', async () => {
    await start();
    const c = await h.customer('Cy', 'cy@example.com');
    await c.say('ticket');
    await settle();
    ib.inbenta.down = true;
    await c.say('Refund for order 77 please');
    await settle();
    const messages = await c.messages();
    const failure = messages.filter((m) => m.message_type === 1).slice(-1)[0]!;
    expect(failure.content).toBe(TICKET_FAILED_TEXT);
    expect(failure.content_type).toBe('input_select');
    expect(failure.content_attributes.items.map((i: { value: string }) => i.value)).toEqual(['retry', 'human']);
    expect(ib.inbenta.tickets).toHaveLength(0);

    ib.inbenta.down = false;
    await c.say('retry');
    await settle();
    expect(ib.inbenta.tickets).toHaveLength(1);
    const ticket = ib.inbenta.tickets[0]!;
    expect(ticket.message).toBe('Refund for order 77 please');
    expect(ticket.history!.messages.map((m) => historyText(m.message))).toContain('Refund for order 77 please');
    expect((await c.received()).some((t) => t.includes(ticket.full_uuid))).toBe(true);
  });

  it('Inbenta down and the customer asks for a human: the handoff note carries what they wrote', async () => {
    await start();
    const c = await h.customer('Di', 'di@example.com');
    await c.say('ticket');
    await settle();
    ib.inbenta.down = true;
    await c.say('My parcel never came');
    await settle();
    await c.say('human');
    await settle();
    const note = h.sandbox.calls.find((x) => x.by === 'bot' && x.body.private === true)!;
    expect(String(note.body.content)).toMatch(/^Handoff/);
    expect(String(note.body.content)).toContain('Customer: My parcel never came');
    expect(h.sandbox.state.conversation(c.conversationId).status).toBe('open');
  });

  it('a creation whose answer is lost is found by external_id: one ticket, the customer gets its reference', async () => {
    await start();
    ib.inbenta.faults.push({ path: /POST \/prod\/ticketing\/v1\/tickets$/, status: 502, afterWork: true });
    const c = await h.customer('Ed', 'ed@example.com');
    await c.say('ticket');
    await settle();
    await c.say('Wrong size delivered');
    await settle();
    expect(ib.inbenta.tickets).toHaveLength(1);
    expect((await c.received()).slice(-1)[0]).toContain(ib.inbenta.tickets[0]!.full_uuid);
  });

  it('a retried escalation after a lost answer and a failed lookup makes no second ticket', async () => {
    await start();
    ib.inbenta.faults.push({ path: /POST \/prod\/ticketing\/v1\/tickets$/, status: 502, afterWork: true });
    // The lookup before creating passes; the one after the lost answer fails.
    ib.inbenta.faults.push({ path: /GET \/prod\/ticketing\/v1\/tickets$/, status: 400, skip: 1 });
    const c = await h.customer('Flo', 'flo@example.com');
    await c.say('ticket');
    await settle();
    await c.say('Charged twice');
    await settle();
    expect((await c.received()).slice(-1)).toEqual([TICKET_FAILED_TEXT]);
    expect(ib.inbenta.tickets).toHaveLength(1); // Inbenta has it; we did not hear
    await c.say('try again');
    await settle();
    expect(ib.inbenta.tickets).toHaveLength(1);
    expect((await c.received()).slice(-1)[0]).toContain(ib.inbenta.tickets[0]!.full_uuid);
  });

  it("relays an agent's answer to the right conversation only, and a closed ticket reaches the bot as handoff.status completed", async () => {
    await start();
    const a = await h.customer('Gus', 'gus@example.com');
    const b = await h.customer('Hal', 'hal@example.com');
    for (const [c, text] of [[a, 'Problem A'], [b, 'Problem B']] as const) {
      await c.say('ticket');
      await settle();
      await c.say(text);
      await settle();
    }
    const ticketB = ib.inbenta.tickets.find((t) => t.message === 'Problem B')!;
    const beforeA = (await a.received()).length;
    ib.inbenta.agentAnswers(ticketB.uuid, '<p>Hello Hal,</p><p>your refund &amp; voucher are on the way.</p>');
    await settle();
    expect((await b.received()).slice(-1)).toEqual([`Our team answered your ticket ${ticketB.full_uuid}:\n\nHello Hal,\nyour refund & voucher are on the way.`]);
    expect((await a.received()).length).toBe(beforeA);
    const delivery = ib.inbenta.deliveries.log.find((d) => d.event === 'reply.add')!;
    expect(JSON.parse(delivery.body)).toEqual([expect.objectContaining({ item: 'reply', action: 'add', parent: ticketB.uuid })]);

    ib.inbenta.closeTicket(ticketB.uuid);
    await settle();
    const statuses = h.bot.seen.filter((x) => x.name === 'handoff.status' && x.conversation?.id.endsWith(`:${b.conversationId}`));
    expect(statuses.map((s) => s.value)).toContainEqual({ state: 'completed', message: `Ticket ${ticketB.full_uuid} was closed.` });
    // Told of the close, then greeted back by the example bot.
    expect((await b.received()).slice(-2)[0]).toContain('has been closed');
    expect((await b.received()).slice(-1)[0]).toBe(WELCOME_BACK_TEXT);
    expect(await h.app.runtime.ownership.owner('nimchat', statuses[0]!.conversation!.id)).toBe('bot');
  });

  it('a closed ticket ends a stretch: with the survey on, the customer is asked once and the answer names the ticket', async () => {
    await start({ SATISFACTION_SURVEY: 'true' });
    const c = await h.customer('Ida', 'ida@example.com');
    await c.say('ticket');
    await settle();
    await c.say('The lid is missing');
    await settle();
    const ticket = ib.inbenta.tickets[0]!;
    ib.inbenta.closeTicket(ticket.uuid);
    await settle();
    // A redelivered close changes nothing: the ticket no longer owns the conversation.
    ib.inbenta.closeTicket(ticket.uuid);
    await settle();
    const asked = (await c.messages()).filter((m) => m.content_type === 'input_csat');
    expect(asked).toHaveLength(1);
    const pub = `${h.sandbox.baseUrl}/public/api/v1/inboxes/${h.sandbox.inboxIdentifier}`;
    await axios.patch(`${pub}/contacts/${c.sourceId}/conversations/${c.conversationId}/messages/${asked[0]!.id}`, { submitted_values: { csat_survey_response: { rating: 5 } } });
    await settle();
    const told = h.bot.seen.filter((a) => a.name === 'conversation.satisfaction').map((a) => a.value);
    expect(told).toEqual([expect.objectContaining({ rating: 5, ended: 'ticket_closed', ticketId: String(ticket.uuid) })]);
  });

  it('answers the registration challenge only with the right X-Hook-Signature; refuses bad deliveries; a redelivered batch is processed once', async () => {
    await start();
    const url = `${h.app.url}/api/inbenta`;
    const ok = await axios.get(url, { headers: { 'X-Hook-Signature': ib.inbenta.webhookSecret, 'X-Inbenta-Challenge': 'abc123' }, responseType: 'text' });
    expect([ok.status, ok.data]).toEqual([200, 'abc123']);
    const refused = await axios.get(url, { headers: { 'X-Hook-Signature': 'nope', 'X-Inbenta-Challenge': 'abc123' }, validateStatus: () => true });
    expect(refused.status).toBe(401);
    expect(JSON.stringify(refused.data)).not.toContain('abc123');
    const unsigned = await axios.post(url, [{ id: 1, item: 'ticket', action: 'update' }], { validateStatus: () => true });
    expect(unsigned.status).toBe(401);
    const invalid = await axios.post(url, [{ item: 'ticket' }], { headers: { 'X-Hook-Signature': ib.inbenta.webhookSecret }, validateStatus: () => true });
    expect(invalid.status).toBe(400);

    const c = await h.customer('Ivy', 'ivy@example.com');
    await c.say('ticket');
    await settle();
    await c.say('Missing invoice');
    await settle();
    const ticket = ib.inbenta.tickets[0]!;
    const reply = ib.inbenta.agentAnswers(ticket.uuid, 'Invoice attached to your email.');
    await settle();
    const batch = [{ id: reply.uuid, item: 'reply', action: 'add', timestamp: reply.created, parent: ticket.uuid }];
    for (let i = 0; i < 3; i++) {
      const res = await axios.post(url, batch, { headers: { 'X-Hook-Signature': ib.inbenta.webhookSecret } });
      expect(res.status).toBe(200);
    }
    // A different event about the same reply (an update) does not relay it a second time either.
    await axios.post(url, [{ ...batch[0], action: 'update', timestamp: reply.created + 5 }], { headers: { 'X-Hook-Signature': ib.inbenta.webhookSecret } });
    await settle();
    expect((await c.received()).filter((t) => t.includes('Invoice attached'))).toHaveLength(1);
  });

  it('the ticket → conversation link survives a restart: an answer after it still reaches the customer', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbenta-restart-'));
    const storageUrl = `sqlite:${path.join(dir, 'state.sqlite')}`;
    await start({ STORAGE_URL: storageUrl });
    const c = await h.customer('Jo', 'jo@example.com');
    await c.say('ticket');
    await settle();
    await c.say('Need a copy of my contract');
    await settle();
    const ticket = ib.inbenta.tickets[0]!;
    await h.app.stop();

    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', STORAGE_URL: storageUrl, NIMCHAT_BASE_URL: h.sandbox.baseUrl, NIMCHAT_BOT_TOKEN: h.botToken, NIMCHAT_WEBHOOK_SECRET: h.secret, ...ib.env });
    const second = new App(config, {
      logger: createLogger({ level: 'silent' }),
      createBot: (deps) => recordingSupportBot(face, deps),
    });
    await second.start();
    extra.push({ stop: () => second.stop() });
    await ib.connect(second);
    ib.inbenta.agentAnswers(ticket.uuid, 'Sent to your inbox.');
    await ib.settle(h.sandbox, second);
    expect((await c.received()).slice(-1)[0]).toContain('Sent to your inbox.');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
