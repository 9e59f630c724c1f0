/** Pure conversions: transcript → history, titles, the agent's HTML → chat text, closed tickets, throttle headers, hook signatures. */
import { describe, expect, it } from 'vitest';
import { escapeHtml, historyMessages, htmlToText, isClosedTicket, ticketTitle } from '../../../adapters/inbenta/convert';
import { readThrottleReset } from '../../../adapters/inbenta/throttle';
import { hookSignatureMatches } from '../../../adapters/inbenta/verify';

describe('Inbenta conversions', () => {
  it('history: guest/assistant in order, escaped, time appended without milliseconds; empty lines dropped', () => {
    expect(
      historyMessages([
        { role: 'customer', text: 'a < b & "c"', at: '2026-11-20T10:02:48.123Z' },
        { role: 'bot', text: '  ', at: '2026-11-20T10:02:49.000Z' },
        { role: 'bot', text: 'line 1\nline 2', at: '2026-11-20T10:02:50.000Z' },
      ]),
    ).toEqual([
      { user: 'guest', message: 'a &lt; b &amp; &quot;c&quot; <small>(2026-11-20T10:02:48Z)</small>' },
      { user: 'assistant', message: 'line 1<br>line 2 <small>(2026-11-20T10:02:50Z)</small>' },
    ]);
    expect(historyMessages([{ role: 'agent', name: 'Sam <S>', text: 'hi', at: '2026-11-20T10:03:00.000Z' }])).toEqual([
      { user: 'assistant', message: 'Sam &lt;S&gt;: hi <small>(2026-11-20T10:03:00Z)</small>' },
    ]);
    expect(escapeHtml("<img src=x onerror='y'>")).toBe('&lt;img src=x onerror=&#39;y&#39;&gt;');
  });

  it('title: the first 80 characters on one line, counted in characters not bytes', () => {
    expect(ticketTitle('  Refund\n\nfor order 1234  ')).toBe('Refund for order 1234');
    expect([...ticketTitle('é'.repeat(100))]).toHaveLength(80);
    expect(ticketTitle('   ')).toBe('Message from the chat');
  });

  it("the agent's HTML becomes chat text: paragraphs and breaks as lines, entities decoded, images marked", () => {
    expect(htmlToText('<p>Hi&nbsp;Ada,</p><p>see <b>below</b>:<br/>1 &lt; 2 &amp; &#233;&#x20AC;</p><ul><li>one</li><li>two</li></ul><img src="att:5"/>')).toBe(
      'Hi Ada,\nsee below:\n1 < 2 & é€\n• one\n• two\n[image]',
    );
  });

  it('closed tickets in every shape the API may use; open ones stay open', () => {
    for (const t of [{ status: 'Closed' }, { status: { id: 3, name: 'solved' } }, { closed: true }, { closed_at: '2026-11-20' }, { status: { is_closed: true } }]) {
      expect(isClosedTicket(t)).toBe(true);
    }
    for (const t of [{ status: 'Open' }, { status: { name: 'Pending' } }, {}, { closed: false, closed_at: null }]) expect(isClosedTicket(t)).toBe(false);
  });

  it('throttle reset: seconds from now, epoch seconds or milliseconds; unreadable ignored', () => {
    const now = 1_800_000_000_000;
    expect(readThrottleReset({ 'x-throttle-reset': '2.5' }, now)).toBe(2500);
    expect(readThrottleReset({ 'x-throttle-reset': String(now / 1000 + 30) }, now)).toBe(30_000);
    expect(readThrottleReset({ 'x-quota-reset': String(now + 4000) }, now)).toBe(4000);
    expect(readThrottleReset({ 'x-throttle-reset': 'soon' }, now)).toBeUndefined();
    expect(readThrottleReset({}, now)).toBeUndefined();
  });

  it('hook signature: exactly the secret', () => {
    expect(hookSignatureMatches('s3cret', 's3cret')).toBe(true);
    for (const bad of [undefined, '', 's3cre', 's3cret ', 'S3CRET']) expect(hookSignatureMatches('s3cret', bad)).toBe(false);
  });
});
