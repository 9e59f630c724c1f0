/**
 * Pure conversions between our transcript/escalation and Inbenta's ticket bodies, and Inbenta's HTML
 * back into plain text for chat platforms.
 */
import type { TranscriptEntry } from '../../dialogs/transcript';
import type { InbentaTicket, TicketBody } from './schemas';

/** Inbenta message bodies are HTML: user text is escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Escaped text with its line breaks kept. */
export function textToHtml(text: string): string {
  return escapeHtml(text).replace(/\r?\n/g, '<br>');
}

/** ISO time without milliseconds, as Inbenta's own connector prints it. */
export function historyTime(at: string): string {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? at : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * `history.messages` from a transcript: `guest` for the customer, `assistant` for the bot and for a
 * human agent (whose name leads the text: history knows no third speaker); history items have no time
 * field, so the time is appended to the text (as Inbenta's connector does).
 */
export function historyMessages(entries: readonly TranscriptEntry[]): NonNullable<TicketBody['history']>['messages'] {
  return entries
    .filter((e) => e.text.trim() !== '')
    .map((e) => ({
      user: e.role === 'customer' ? ('guest' as const) : ('assistant' as const),
      message: `${e.role === 'agent' ? `${textToHtml(e.name ?? 'Agent')}: ` : ''}${textToHtml(e.text)} <small>(${historyTime(e.at)})</small>`,
    }));
}

/** A ticket title: the description's first 80 characters on one line. */
export function ticketTitle(description: string): string {
  const oneLine = description.replace(/\s+/g, ' ').trim();
  return [...oneLine].slice(0, 80).join('') || 'Message from the chat';
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** An agent's HTML answer as plain chat text: breaks and paragraphs become new lines, tags go. */
export function htmlToText(html: string): string {
  return html
    .replace(/<\s*br\s*\/?>/gi, '\n')
    .replace(/<\/\s*(p|div|li|h[1-6])\s*>/gi, '\n')
    .replace(/<\s*li[^>]*>/gi, '• ')
    .replace(/<img[^>]*>/gi, '[image]')
    .replace(/<[^>]+>/g, '')
    .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (m, code: string) => {
      if (code.startsWith('#x') || code.startsWith('#X')) return String.fromCodePoint(parseInt(code.slice(2), 16));
      if (code.startsWith('#')) return String.fromCodePoint(Number(code.slice(1)));
      return ENTITIES[code.toLowerCase()] ?? m;
    })
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const CLOSED_WORDS = /^(closed|solved|resolved|archived)$/i;

/**
 * Whether a ticket read back is closed. Inbenta's ticket status shape is not public (a name, an
 * object with a name, or a closing date): each is accepted.
 */
export function isClosedTicket(ticket: InbentaTicket): boolean {
  if (ticket.closed === true || ticket.closed === 1) return true;
  if (ticket.closed_at || ticket.closing_date) return true;
  const status = ticket.status;
  if (typeof status === 'string') return CLOSED_WORDS.test(status);
  if (status && typeof status === 'object') {
    const s = status as { name?: unknown; closed?: unknown; is_closed?: unknown };
    if (s.closed === true || s.is_closed === true) return true;
    if (typeof s.name === 'string') return CLOSED_WORDS.test(s.name);
  }
  return false;
}
