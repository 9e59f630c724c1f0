/** A WhatsApp member's burst of messages on WOZTELL is one turn too (MESSAGE_DEBOUNCE_MS), each message its own transcript line. */
import { afterEach, describe, expect, it } from 'vitest';
import { startWoztellHarness } from '../../helpers/woztell-harness';

describe('bursts on WOZTELL (MESSAGE_DEBOUNCE_MS)', () => {
  let h: Awaited<ReturnType<typeof startWoztellHarness>> | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('three messages within the window: one turn, one answer; the next member\'s messages are their own', async () => {
    h = await startWoztellHarness({ env: { MESSAGE_DEBOUNCE_MS: '500' } });
    const ada = h.sandbox.createMember('Ada');
    const bo = h.sandbox.createMember('Bo');
    for (const text of ['hi', 'my order', 'it never came']) {
      h.sandbox.customerSays(ada.memberId, { text });
      await new Promise((r) => setTimeout(r, 80));
    }
    h.sandbox.customerSays(bo.memberId, { text: 'hello' });
    await h.settle();
    const turns = (memberId: string) => h!.bot.seen.filter((a) => a.type === 'message' && a.from?.id === memberId).map((a) => a.text);
    expect(turns(ada.memberId)).toEqual(['hi\nmy order\nit never came']);
    expect(turns(bo.memberId)).toEqual(['hello']);
    expect(h.received(ada.memberId)).toHaveLength(1);
    const conversationId = h.bot.seen.find((a) => a.from?.id === ada.memberId)!.conversation!.id;
    const lines = await h.app.runtime.transcripts.list('woztell', conversationId);
    expect(lines.filter((l) => l.role === 'customer').map((l) => l.text)).toEqual(['hi', 'my order', 'it never came']);
  });
});
