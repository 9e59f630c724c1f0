/**
 * "Leave a message" on WOZTELL end to end with the sandbox Inbenta: email asked (WOZTELL has none),
 * the thread moved to the resolved folder, the agent's answer relayed to the member, the member's
 * words added to the open ticket, and a closed ticket giving the conversation back to the bot.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startWoztellHarness, type WoztellHarness } from '../../helpers/woztell-harness';
import { startInbenta } from '../../helpers/inbenta';
import { DESCRIPTION_PROMPT, EMAIL_PROMPT } from '../../../dialogs/ticket-dialog';
import { MENU_TEXT } from '../../../src/bot/support-dialog';
import type { AppOptions } from '../../../src/app';
import { FACES } from '../../helpers/faces';

describe.each(FACES)('tickets on WOZTELL, the example bot on %s', (face) => {
  let h: WoztellHarness;
  let ib: Awaited<ReturnType<typeof startInbenta>>;
  afterEach(async () => {
    await h?.close();
    await ib?.inbenta.close();
  });

  async function start(app: AppOptions = {}) {
    ib = await startInbenta();
    h = await startWoztellHarness({ face, env: { ...ib.env, WOZTELL_RESOLVED_FOLDER: 'done' }, app });
    await ib.connect(h.app);
  }
  const settle = () => ib.settle(h.sandbox, h.app);

  it('ticket → email → description → ticket with history → reference → thread moved to the resolved folder', async () => {
    await start();
    const m = h.sandbox.createMember('Kim');
    h.sandbox.customerSays(m.memberId, { payload: 'ticket', data: { text: 'Leave a message', payload: 'ticket' } });
    await settle();
    expect(h.received(m.memberId).at(-1)).toBe(EMAIL_PROMPT);
    h.sandbox.customerSays(m.memberId, { text: 'kim@example.com' });
    await settle();
    expect(h.received(m.memberId).at(-1)).toBe(DESCRIPTION_PROMPT);
    h.sandbox.customerSays(m.memberId, { text: 'The charger stopped working' });
    await settle();

    const ticket = ib.inbenta.tickets[0]!;
    expect(ticket).toMatchObject({ title: 'The charger stopped working', message: 'The charger stopped working', queue: 1, source: 3 });
    expect(ib.inbenta.users[0]).toMatchObject({ address: 'kim@example.com' }); // WOZTELL names the member by number
    expect(ticket.history!.messages.map((x) => x.user)).toEqual(['guest', 'assistant', 'guest', 'assistant', 'guest']);
    expect(h.received(m.memberId).at(-1)).toContain(ticket.full_uuid);
    expect(h.sandbox.state.thread({ memberId: m.memberId })!.folder).toBe('done');
    expect(h.platformCalls()).toContain('inbox POST /update-thread-folder');
  });

  it("relays the agent's answer to the member; the member's reply goes into the ticket (acknowledged once); closing gives the member back to the bot", async () => {
    await start();
    const m = h.sandbox.createMember('Lee');
    h.sandbox.customerSays(m.memberId, { text: 'ticket' });
    await settle();
    h.sandbox.customerSays(m.memberId, { text: 'lee@example.com' });
    await settle();
    h.sandbox.customerSays(m.memberId, { text: 'Order 55 is late' });
    await settle();
    const ticket = ib.inbenta.tickets[0]!;

    ib.inbenta.agentAnswers(ticket.uuid, 'It ships tomorrow.<br>Sorry for the wait!');
    await settle();
    expect(h.received(m.memberId).at(-1)).toBe(`Our team answered your ticket ${ticket.full_uuid}:\n\nIt ships tomorrow.\nSorry for the wait!`);

    h.sandbox.customerSays(m.memberId, { text: 'Thanks, can it come before noon?' });
    await settle();
    h.sandbox.customerSays(m.memberId, { text: 'I am out in the afternoon' });
    await settle();
    expect(ticket.replies.filter((r) => r.type === 'reply').map((r) => r.message)).toEqual(['Thanks, can it come before noon?', 'I am out in the afternoon']);
    expect(ticket.replies.find((r) => r.type === 'reply')!.creator).toBe(ib.inbenta.users[0]!.id);
    const acks = h.received(m.memberId).filter((t) => t.startsWith("I've added your message"));
    expect(acks).toHaveLength(1);
    expect(h.bot.seen.filter((a) => a.type === 'message' && a.text === 'I am out in the afternoon')).toHaveLength(0); // the bot stayed silent

    ib.inbenta.closeTicket(ticket.uuid);
    await settle();
    expect(h.bot.seen.filter((a) => a.name === 'handoff.status').map((a) => a.value)).toContainEqual({ state: 'completed', message: `Ticket ${ticket.full_uuid} was closed.` });
    h.sandbox.customerSays(m.memberId, { text: 'hello again' });
    await settle();
    expect(h.received(m.memberId).at(-1)).toMatch(new RegExp(`^${MENU_TEXT.replace('?', '\\?')}`));
  });

  it('an answer while WOZTELL refuses sends is retried from the outbox, not lost', async () => {
    await start({ outbox: { baseDelayMs: 20 }, platformOptions: { woztell: { http: { retry: { maxAttempts: 1 } } } } });
    const m = h.sandbox.createMember('Max');
    h.sandbox.customerSays(m.memberId, { text: 'ticket' });
    await settle();
    h.sandbox.customerSays(m.memberId, { text: 'max@example.com' });
    await settle();
    h.sandbox.customerSays(m.memberId, { text: 'Broken screen' });
    await settle();
    const ticket = ib.inbenta.tickets[0]!;
    h.sandbox.faults.push({ api: 'bot', path: /sendResponses/, status: 503, times: 20 });
    ib.inbenta.agentAnswers(ticket.uuid, 'We will replace it.');
    await settle();
    expect(h.received(m.memberId).some((t) => t.includes('We will replace it.'))).toBe(false);
    h.sandbox.faults.length = 0;
    expect(await h.app.stores.outbox.pending()).toHaveLength(1);
    // The retry's (shortened) backoff.
    for (let i = 0; i < 200 && (await h.app.stores.outbox.pending()).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    await settle();
    expect(h.received(m.memberId).filter((t) => t.includes('We will replace it.'))).toHaveLength(1);
  });

  it("attaches the customer's files to the ticket; a file over ~7 MB is left out before upload and the customer is told", async () => {
    await start();
    const files: Record<string, Buffer> = { '/photo.jpg': Buffer.from('jpeg-bytes'), '/video.mp4': Buffer.alloc(8 * 1024 * 1024) };
    const server = http.createServer((req, res) => {
      const body = files[req.url ?? ''];
      res.writeHead(body ? 200 : 404, { 'Content-Length': body?.length ?? 0 });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const m = h.sandbox.createMember('Nia');
      h.sandbox.customerSays(m.memberId, { text: 'ticket' });
      await settle();
      h.sandbox.customerSays(m.memberId, { text: 'nia@example.com' });
      await settle();
      h.sandbox.customerSays(m.memberId, { type: 'IMAGE', data: { url: `${base}/photo.jpg`, fileName: 'photo.jpg', text: 'The box was crushed, see photo' } });
      await settle();
      expect(ib.inbenta.tickets).toHaveLength(1);
      expect(ib.inbenta.media).toEqual([{ uuid: ib.inbenta.tickets[0]!.attachments[0], name: 'photo.jpg', size: 10 }]);

      const n = h.sandbox.createMember('Oli');
      h.sandbox.customerSays(n.memberId, { text: 'ticket' });
      await settle();
      h.sandbox.customerSays(n.memberId, { text: 'oli@example.com' });
      await settle();
      h.sandbox.customerSays(n.memberId, { type: 'VIDEO', data: { url: `${base}/video.mp4`, fileName: 'video.mp4' } });
      await settle();
      expect(ib.inbenta.tickets).toHaveLength(2);
      expect(ib.inbenta.tickets[1]!.attachments).toEqual([]);
      expect(ib.inbenta.media).toHaveLength(1); // nothing uploaded for the large file
      expect(h.received(n.memberId).at(-1)).toMatch(/couldn't attach "video\.mp4": it is larger than about 7 MB/);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
