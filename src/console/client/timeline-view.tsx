/** One conversation's timeline: every step in order with its time and duration, messages as their readers saw them. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, type Conversation, type TimelineEntry } from './api';
import { clock, conversationLabel, duration, elapsed, fields } from './format';
import { useInterval, useThrottledReload } from './live';

const ROLE_LABEL = { customer: 'Customer', bot: 'Bot', agent: 'Agent' } as const;

export function TimelineView({ version, conversation }: { version: number; conversation: Conversation }) {
  const [entries, setEntries] = useState<TimelineEntry[]>([]);
  const [summary, setSummary] = useState<Conversation | undefined>(conversation);
  const lastId = useRef(0);
  const [skew, setSkew] = useState(0);
  const [now, setNow] = useState(Date.now());
  useInterval(() => setNow(Date.now()), 1000);
  const current = useRef(conversation.conversationId);

  useEffect(() => {
    current.current = conversation.conversationId;
    lastId.current = 0;
    setEntries([]);
    setSummary(conversation);
  }, [conversation.conversationId]);

  const load = async () => {
    const id = conversation.conversationId;
    const answer = await get<{ now: number; conversation?: Conversation; entries: TimelineEntry[] }>(`conversations/${encodeURIComponent(id)}/timeline?after=${lastId.current}&limit=1000`);
    if (current.current !== id) return;
    setSkew(answer.now - Date.now());
    if (answer.conversation) setSummary(answer.conversation);
    if (answer.entries.length > 0) {
      lastId.current = answer.entries.at(-1)!.id;
      setEntries((old) => [...old, ...answer.entries].slice(-2000));
    }
  };
  useThrottledReload(version, conversation.conversationId, load);

  const first = entries[0]?.at;
  return (
    <section class="timeline" aria-label="Timeline">
      <header class="timeline-head">
        <h2>
          <span class={`platform ${conversation.platform}`}>{conversation.platform}</span> <span title={conversation.conversationId}>{conversationLabel(conversation.platform, conversation.conversationId)}</span>
        </h2>
        {summary && (
          <span>
            owner <span class={`owner ${summary.owner}`}>{summary.owner}</span>
            {summary.owner !== 'bot' && summary.waitingSince !== undefined && <span class="waiting"> waiting {elapsed(Math.max(0, now + skew - summary.waitingSince))}</span>}
          </span>
        )}
      </header>
      <ol class="steps" data-testid="timeline">
        {entries.map((e) => (
          <Step key={e.id} entry={e} first={first ?? e.at} />
        ))}
      </ol>
    </section>
  );
}

function Step({ entry, first }: { entry: TimelineEntry; first: number }) {
  const [open, setOpen] = useState(false);
  const d = entry.detail;
  const failed = d.outcome === 'failed' || d.outcome === 'retry' || d.error !== undefined;
  return (
    <li class={`step ${entry.kind}${failed ? ' bad' : ''}`} data-kind={entry.kind} data-outcome={typeof d.outcome === 'string' ? d.outcome : undefined}>
      <time title={new Date(entry.at).toISOString()}>{clock(entry.at)}</time>
      <span class="offset muted">+{duration(entry.at - first)}</span>
      <span class={`kind ${entry.kind}`}>{KIND_LABEL[entry.kind]}</span>
      <span class="what">
        {describe(entry)}
        {entry.message && (
          <span class={`bubble ${entry.message.role}`}>
            <b>{ROLE_LABEL[entry.message.role]}:</b> {entry.message.text}
          </span>
        )}
        {typeof d.error === 'string' && <span class="error">{d.error}</span>}
      </span>
      <span class="took">{entry.durationMs !== undefined ? duration(entry.durationMs) : ''}</span>
      <button class="link more" onClick={() => setOpen(!open)} aria-expanded={open}>
        {open ? 'less' : 'more'}
      </button>
      {open && <pre class="detail-json">{JSON.stringify(d, null, 2)}</pre>}
    </li>
  );
}

const KIND_LABEL: Record<TimelineEntry['kind'], string> = {
  webhook: 'webhook',
  turn: 'turn',
  ownership: 'owner',
  queued: 'queued',
  delivery: 'sent',
  event: 'event',
};

function describe(entry: TimelineEntry): string {
  const d = entry.detail as Record<string, unknown>;
  const s = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : v === undefined ? '' : fields(v));
  switch (entry.kind) {
    case 'webhook':
      return `Webhook received: ${s(d.event)}${d.duplicate === true ? ' (duplicate, dropped)' : ''}${Array.isArray(d.keys) && d.keys.length ? ` · ${d.keys.join(', ')}` : ''}${typeof d.text === 'string' ? ` · “${d.text}”` : ''}`;
    case 'turn':
      return `Turn: ${s(d.activity)} · owner ${s(entry.owner)}${d.keptFromBot ? ' · kept from the bot' : ''}`;
    case 'ownership':
      if (d.from === d.to) return `Platform status ${s(d.platformStatus) || '–'} · owner stays ${s(d.to)} (${s(d.reason)})`;
      return `Owner ${s(d.from)} → ${s(d.to)} (${s(d.reason)}${d.platformStatus ? `, status ${s(d.platformStatus)}` : ''})${d.details ? ` · ${fields(d.details)}` : ''}`;
    case 'queued':
      return `Queued ${s(d.action)}${d.request !== undefined ? `: ${fields(d.request)}` : ''}${d.control !== undefined ? `: ${fields(d.control)}` : ''}${typeof d.note === 'string' ? ` · note: ${d.note}` : ''}`;
    case 'delivery': {
      const outcome = s(d.outcome);
      const what = `${s(d.action)} #${s(d.outboxId)}`;
      const attempt = d.attempt !== undefined ? ` (attempt ${s(d.attempt)})` : '';
      if (outcome === 'done') return `Sent ${what}${attempt}${d.result !== undefined ? ` · the platform answered: ${answer(d.result)}` : ''}`;
      if (outcome === 'retry') return `Attempt failed: ${what}${attempt}, next at ${d.nextAttemptAt ? clock(Number(d.nextAttemptAt)) : '?'}`;
      if (outcome === 'failed') return `Failed for good: ${what}${attempt}`;
      if (outcome === 'step') return `Step done: ${what} ${s(d.step)}${attempt}`;
      if (outcome === 'retried') return `Retried by an operator: ${what}`;
      if (outcome === 'discarded') return `Discarded by an operator: ${what}`;
      return `${what} ${outcome}`;
    }
    case 'event':
      if (typeof d.what === 'string' && d.what.startsWith('satisfaction')) return satisfaction(d);
      return d.what === 'set_aside' ? `Event #${s(d.eventId)} set aside after ${s(d.attempts)} attempts` : `Event #${s(d.eventId)} ${s(d.what)} by an operator`;
  }
}

const STRETCH_END: Record<string, string> = { released: 'given back to the bot', resolved: 'resolved by the agent', ticket_closed: 'ticket closed' };

/** The satisfaction survey's steps: asked, not asked (why), dropped (why), answered (the rating, the words, whose stretch). */
function satisfaction(d: Record<string, unknown>): string {
  const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const who = [str(d.agent) && `agent ${str(d.agent)}`, str(d.team) && `team ${str(d.team)}`, str(d.ticketId) && `ticket ${str(d.ticketId)}`].filter(Boolean).join(', ');
  const stretch = `${STRETCH_END[str(d.ended) ?? ''] ?? str(d.ended) ?? ''}${who ? ` · ${who}` : ''}`;
  switch (d.what) {
    case 'satisfaction':
      return `Satisfaction rated ${str(d.rating)}/5${str(d.comment) ? ` · “${str(d.comment)}”` : ''} · ${stretch}`;
    case 'satisfaction_asked':
      return `Satisfaction survey asked · ${stretch}`;
    case 'satisfaction_not_asked':
      return `Satisfaction survey not asked: ${str(d.why) ?? ''}`;
    default:
      return `Satisfaction survey ended unanswered: ${str(d.why) ?? ''}`;
  }
}

/** What a platform answered, in words: a message's id, a handoff's outcome. */
function answer(result: unknown): string {
  if (typeof result === 'string' || typeof result === 'number') return `id ${result}`;
  return fields(result);
}
