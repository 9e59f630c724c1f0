/** Transcript lines from activities, and the text a handoff note or a ticket shows of them. */
import { ActivityTypes, type Activity } from 'botbuilder-core';
import type { TranscriptEntry } from './transcript-store';

/** The text a transcript line shows for an activity (text, chosen value, choices, attachments). */
export function describeActivity(activity: Partial<Activity>): string {
  const parts: string[] = [];
  if (activity.text) parts.push(activity.text);
  else if (activity.value !== undefined && activity.value !== null && typeof activity.value !== 'object') {
    parts.push(String(activity.value));
  }
  for (const card of activity.attachments ?? []) {
    const content = card.content as { title?: string; text?: string } | undefined;
    if (card.contentType?.startsWith('application/vnd.microsoft.card')) {
      const cardText = [content?.title, content?.text].filter(Boolean).join(' ');
      if (cardText) parts.push(cardText);
    } else {
      parts.push(`[attachment: ${card.name ?? card.contentType ?? 'file'}]`);
    }
  }
  const choices = (activity.suggestedActions?.actions ?? []).map((a) => a.title ?? String(a.value ?? ''));
  if (choices.length > 0) parts.push(`[${choices.join(' | ')}]`);
  return parts.join(' ').replace(/\s*\n+\s*/g, ' ').trim();
}

/** The line a customer's message adds, or undefined (bot echoes, empty messages, events). */
export function customerEntry(activity: Partial<Activity>): TranscriptEntry | undefined {
  if (activity.type !== ActivityTypes.Message || activity.from?.role === 'bot') return undefined;
  const text = describeActivity(activity);
  return text ? { role: 'customer', text, at: isoTime(activity.timestamp) } : undefined;
}

/** The lines the bot's outgoing messages add. */
export function botEntries(activities: readonly Partial<Activity>[], at = new Date()): TranscriptEntry[] {
  return activities
    .filter((a) => a.type === ActivityTypes.Message)
    .map((a): TranscriptEntry => ({ role: 'bot', text: describeActivity(a), at: at.toISOString(), ...(a.inputHint === 'expectingInput' ? { expectingInput: true } : {}) }))
    .filter((e) => e.text !== '');
}

const LABEL: Record<TranscriptEntry['role'], string> = { customer: 'Customer', bot: 'Bot', agent: 'Agent' };

/** One line per message: `Customer: …`, `Bot: …` or `Agent: …`. */
export function formatTranscript(entries: readonly TranscriptEntry[]): string {
  return entries.map((e) => `${LABEL[e.role]}: ${e.text}`).join('\n');
}

/** Turns stored entries into the `{activities}` a `handoff.initiate` transcript attachment carries. */
export function transcriptToActivities(entries: readonly TranscriptEntry[]): Partial<Activity>[] {
  return entries.map((e) => ({
    type: ActivityTypes.Message,
    from:
      e.role === 'customer'
        ? { id: 'customer', name: 'Customer', role: 'user' }
        : e.role === 'agent'
          ? { id: 'agent', name: e.name ?? 'Agent', role: 'agent' }
          : { id: 'bot', name: 'Bot', role: 'bot' },
    text: e.text,
    timestamp: new Date(e.at),
  }));
}

/** Formats the activities of a transcript attachment (ours or a bot developer's own). */
export function formatTranscriptActivities(activities: readonly Partial<Activity>[]): string {
  return formatTranscript(
    activities
      .filter((a) => (a.type ?? ActivityTypes.Message) === ActivityTypes.Message)
      .map((a) => ({
        role: a.from?.role === 'user' ? ('customer' as const) : a.from?.role === 'agent' ? ('agent' as const) : ('bot' as const),
        text: describeActivity(a),
        at: isoTime(a.timestamp),
      }))
      .filter((e) => e.text !== ''),
  );
}

function isoTime(timestamp: Date | string | undefined): string {
  const d = timestamp ? new Date(timestamp) : new Date();
  return Number.isNaN(d.getTime()) ? new Date().toISOString() : d.toISOString();
}
