/**
 * A WOZTELL reply whose outcome the bot never learnt (the answer hung past the client's timeout, or was
 * lost after WOZTELL sent the message): WOZTELL's `BOT` echo of it is the evidence, and the member does
 * not get it twice. Without an echo the reply is sent again (nothing is lost).
 */
import { ActivityHandler } from 'botbuilder';
import { afterEach, describe, expect, it } from 'vitest';
import { itemFingerprint } from '../../../adapters/woztell/message-fingerprint';
import { MENU_TEXT } from '../../../src/bot/support-dialog';
import { startWoztellHarness, type WoztellHarness } from '../../helpers/woztell-harness';

const SEND = /^\/sendResponses$/;
// The answer is given up on after 300 ms; the outbox tries again after about 50 ms.
const app = { platformOptions: { woztell: { http: { timeoutMs: 300 } } }, outbox: { baseDelayMs: 50, maxDelayMs: 200 } };

let h: WoztellHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function until(check: () => boolean, ms = 8000): Promise<void> {
  for (let waited = 0; waited < ms && !check(); waited += 20) await new Promise((r) => setTimeout(r, 20));
}

const sends = (h: WoztellHarness) => h.sandbox.calls.filter((c) => c.api === 'bot' && SEND.test(c.path)).length;
const menus = (h: WoztellHarness, memberId: string) => h.received(memberId).filter((t) => t === MENU_TEXT).length;

describe('a WOZTELL reply is looked for before it is sent again', () => {
  it('the answer hung past the timeout after WOZTELL sent the message: sent once', async () => {
    h = await startWoztellHarness({ app });
    const m = h.sandbox.createMember('Ada');
    h.sandbox.faults.push({ api: 'bot', path: SEND, delayMs: 1500, times: 1 });
    h.sandbox.customerSays(m.memberId, { text: 'hello' });
    await until(() => h!.received(m.memberId).length > 0);
    await h.settle();
    await new Promise((r) => setTimeout(r, 1600)); // the late answer, and anything a retry would have sent
    expect(h.received(m.memberId)).toEqual([MENU_TEXT]);
    expect(sends(h)).toBe(1);
    expect(h.logLines.some((l) => l.includes('an earlier attempt had sent the message'))).toBe(true);
  });

  it('the answer was lost (500 after the work): sent once', async () => {
    h = await startWoztellHarness({ app });
    const m = h.sandbox.createMember('Ada');
    h.sandbox.faults.push({ api: 'bot', path: SEND, status: 500, afterWork: true, times: 1 });
    h.sandbox.customerSays(m.memberId, { text: 'hello' });
    await until(() => h!.received(m.memberId).length > 0);
    await h.settle();
    await new Promise((r) => setTimeout(r, 300));
    expect(h.received(m.memberId)).toEqual([MENU_TEXT]);
    expect(sends(h)).toBe(1);
  });

  it('the request never reached WOZTELL (500 before the work): sent again after the look finds nothing', async () => {
    h = await startWoztellHarness({ app });
    const m = h.sandbox.createMember('Ada');
    h.sandbox.faults.push({ api: 'bot', path: SEND, status: 500, times: 1 });
    h.sandbox.customerSays(m.memberId, { text: 'hello' });
    await until(() => h!.received(m.memberId).length > 0);
    await h.settle();
    expect(h.received(m.memberId)).toEqual([MENU_TEXT]);
    expect(sends(h)).toBe(2);
  });

  it('the same reply twice in a row, the second cut after WOZTELL sent it: both arrive, neither twice', async () => {
    h = await startWoztellHarness({ app });
    const m = h.sandbox.createMember('Ada');
    h.sandbox.customerSays(m.memberId, { text: 'hello' });
    await until(() => h!.received(m.memberId).length === 1);
    await h.settle();
    h.sandbox.faults.push({ api: 'bot', path: SEND, status: 500, afterWork: true, times: 1 });
    h.sandbox.customerSays(m.memberId, { text: 'menu' });
    await until(() => h!.received(m.memberId).length >= 2);
    await h.settle();
    await new Promise((r) => setTimeout(r, 300));
    expect(menus(h, m.memberId)).toBe(2);
    expect(sends(h)).toBe(2);
  });

  it('a reply found by its echo, then the same reply refused before WOZTELL did anything: sent (the echo stands for one send only)', async () => {
    h = await startWoztellHarness({ app });
    const m = h.sandbox.createMember('Ada');
    h.sandbox.faults.push({ api: 'bot', path: SEND, delayMs: 1000, times: 1 });
    h.sandbox.customerSays(m.memberId, { text: 'hello' });
    await until(() => h!.received(m.memberId).length === 1);
    await h.settle();
    await new Promise((r) => setTimeout(r, 1100));
    expect(h.logLines.some((l) => l.includes('an earlier attempt had sent the message'))).toBe(true);
    h.sandbox.faults.push({ api: 'bot', path: SEND, status: 500, times: 1 });
    h.sandbox.customerSays(m.memberId, { text: 'menu' });
    await until(() => h!.received(m.memberId).length >= 2);
    await h.settle();
    expect(menus(h, m.memberId)).toBe(2);
    expect(sends(h)).toBe(3);
  });

  /** A bot whose reply is one request of two messages: a text and an image. */
  class InvoiceBot extends ActivityHandler {
    constructor() {
      super();
      this.onMessage(async (context, next) => {
        await context.sendActivity({ text: 'Here is your invoice.', attachments: [{ contentType: 'image/png', contentUrl: 'https://files.example/invoice.png', name: 'invoice.png' }] });
        await next();
      });
    }
  }
  const invoiceApp = { ...app, bot: new InvoiceBot(), createBot: undefined };
  const itemsSent = (h: WoztellHarness) => h.sandbox.calls.filter((c) => c.api === 'bot' && SEND.test(c.path)).map((c) => (c.body.response as Array<{ type: string }>).map((i) => i.type).join('+'));

  it('a request of two messages whose answer was lost after WOZTELL sent both: neither is sent again', async () => {
    h = await startWoztellHarness({ app: invoiceApp });
    const m = h.sandbox.createMember('Ada');
    h.sandbox.faults.push({ api: 'bot', path: SEND, status: 500, afterWork: true, times: 1 });
    h.sandbox.customerSays(m.memberId, { text: 'my invoice' });
    await until(() => h!.received(m.memberId).length >= 2);
    await h.settle();
    await new Promise((r) => setTimeout(r, 300));
    expect(h.sandbox.received(m.memberId).map((x) => x.type)).toEqual(['TEXT', 'IMAGE']);
    expect(itemsSent(h)).toEqual(['TEXT+IMAGE']);
  });

  it('an earlier attempt that sent the first message only: the second is sent now, the first not again', async () => {
    h = await startWoztellHarness({ app: invoiceApp });
    const m = h.sandbox.createMember('Bo');
    // The first attempt fails before WOZTELL does anything, but an echo of its first message is there
    // (as when WOZTELL sent one message of the request and then failed).
    h.sandbox.faults.push({ api: 'bot', path: SEND, status: 500, times: 1 });
    const conversationId = `${h.sandbox.channelId}:${m.memberId}`;
    await h.app.runtime.sent.echoed('woztell', { conversationId, messageId: 'wamid.partial-1', fingerprint: itemFingerprint({ type: 'TEXT', text: 'Here is your invoice.' }) });
    h.sandbox.customerSays(m.memberId, { text: 'my invoice' });
    await until(() => itemsSent(h!).length >= 2);
    await h.settle();
    expect(itemsSent(h)).toEqual(['TEXT+IMAGE', 'IMAGE']);
    expect(h.sandbox.received(m.memberId).map((x) => x.type)).toEqual(['IMAGE']);
  });
});
