/** Pending and failed platform actions, and events set aside after repeated failures, each with its last error and Retry / Discard. */
import { useState } from 'preact/hooks';
import { get, post, type Conversation, type OutboxItem, type SetAsideItem } from './api';
import { conversationLabel, dateTime, fromNow } from './format';
import { useInterval, useThrottledReload } from './live';

/** What discarding tells the customer's side, by action kind: the operator reads it before confirming. */
const DISCARD_CONSEQUENCE: Record<string, string> = {
  message: 'The message is never sent, and the bot is told it could not be delivered (it usually apologises to the customer).',
  handoff: 'The handoff is not carried out, and the bot is told it failed (it usually tells the customer).',
  control: 'The action is not carried out, and the bot is told it failed.',
};

interface Props {
  version: number;
  readOnly: boolean;
  onCount: (n: number) => void;
  onOpen: (c: Conversation) => void;
}

export function OutboxView({ version, readOnly, onCount, onOpen }: Props) {
  const [actions, setActions] = useState<OutboxItem[]>([]);
  const [events, setEvents] = useState<SetAsideItem[]>([]);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const [serverNow, setServerNow] = useState(Date.now());
  const [skew, setSkew] = useState(0);
  const [discarding, setDiscarding] = useState<OutboxItem | undefined>(undefined);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  useInterval(() => setServerNow(Date.now() + skew), 1000);

  const load = async () => {
    const [a, e] = await Promise.all([get<{ now: number; actions: OutboxItem[] }>('outbox?limit=500'), get<{ events: SetAsideItem[] }>('set-aside?limit=500')]);
    setSkew(a.now - Date.now());
    setServerNow(a.now);
    setActions(a.actions);
    setEvents(e.events);
    onCount(a.actions.length + e.events.length);
  };
  useThrottledReload(version + tick, 'outbox', load);

  const act = async (path: string, label: string, body?: unknown) => {
    setBusy(true);
    try {
      await post(path, body);
      setMessage({ ok: true, text: `${label}: done` });
    } catch (error) {
      setMessage({ ok: false, text: `${label}: ${error instanceof Error ? error.message : String(error)}` });
    }
    setBusy(false);
    setTick((t) => t + 1);
  };
  const confirmDiscard = async () => {
    const a = discarding!;
    const text = reason.trim();
    setDiscarding(undefined);
    setReason('');
    await act(`outbox/${a.id}/discard`, `Discard #${a.id}`, text ? { reason: text } : {});
  };
  const open = (platform: string, conversationId: string) => onOpen({ platform, conversationId, firstAt: 0, lastAt: 0, owner: 'bot', ownerSince: 0 });

  return (
    <section class="stuck">
      {message && (
        <p class={message.ok ? 'notice' : 'problem'} role="status">
          {message.text}
        </p>
      )}
      {discarding && (
        <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="discard-title" data-testid="discard-dialog">
          <h3 id="discard-title">
            Discard {discarding.kind} #{discarding.id}?
          </h3>
          <p>{discarding.summary}</p>
          <p class="problem">{DISCARD_CONSEQUENCE[discarding.kind] ?? 'The action is not carried out, and the bot is told it failed.'}</p>
          <label>
            Reason (kept on the conversation's timeline)
            <input value={reason} maxLength={500} onInput={(event) => setReason((event.target as HTMLInputElement).value)} placeholder="e.g. the customer already got an answer by email" />
          </label>
          <span class="buttons">
            <button class="danger" onClick={() => void confirmDiscard()}>
              Discard
            </button>
            <button onClick={() => setDiscarding(undefined)}>Keep it</button>
          </span>
        </div>
      )}
      <h2>Platform actions waiting or failed ({actions.length})</h2>
      {actions.length === 0 ? (
        <p class="empty">Nothing waiting: every reply, handoff and control action went through.</p>
      ) : (
        <table class="grid" data-testid="outbox">
          <thead>
            <tr>
              <th>#</th>
              <th>conversation</th>
              <th>action</th>
              <th>status</th>
              <th>attempts</th>
              <th>next / failed at</th>
              <th>what</th>
              <th>last error</th>
              {!readOnly && <th>actions</th>}
            </tr>
          </thead>
          <tbody>
            {actions.map((a) => (
              <tr key={a.id} data-outbox={a.id} class={a.status}>
                <td>{a.id}</td>
                <td>
                  <button class="link" onClick={() => open(a.platform, a.conversationId)} title={a.conversationId}>
                    {a.platform} · {conversationLabel(a.platform, a.conversationId)}
                  </button>
                </td>
                <td>
                  {a.kind}
                  {a.steps.length > 0 && <small class="muted"> (done: {a.steps.join(', ')})</small>}
                </td>
                <td>
                  <span class={`status ${a.status}`}>{a.status}</span>
                </td>
                <td data-attempts={a.attempts}>
                  {a.attempts}
                  {a.attempting && <small class="muted"> (attempting now)</small>}
                </td>
                <td>
                  {a.status === 'failed' ? (
                    a.finishedAt ? `failed ${dateTime(a.finishedAt, serverNow)}` : 'failed'
                  ) : a.attempting ? (
                    'now'
                  ) : (
                    <span title={dateTime(a.nextAttemptAt, serverNow)}>next {fromNow(a.nextAttemptAt, serverNow)}</span>
                  )}
                </td>
                <td class="summary">{a.summary}</td>
                <td class="error">{a.lastError ?? ''}</td>
                {!readOnly && (
                  <td class="actions">
                    <span class="buttons">
                      <button disabled={busy} onClick={() => void act(`outbox/${a.id}/retry`, `Retry #${a.id}`)}>Retry</button>
                      <button class="danger" disabled={busy} onClick={() => setDiscarding(a)}>
                        Discard…
                      </button>
                    </span>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Events set aside ({events.length})</h2>
      <p class="muted">Accepted webhooks whose processing started three times without finishing: kept here instead of being run again at every start.</p>
      {events.length === 0 ? (
        <p class="empty">None.</p>
      ) : (
        <table class="grid" data-testid="set-aside">
          <thead>
            <tr>
              <th>#</th>
              <th>conversation</th>
              <th>event</th>
              <th>received</th>
              <th>set aside</th>
              <th>why</th>
              {!readOnly && <th>actions</th>}
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id} data-event={e.id}>
                <td>{e.id}</td>
                <td title={e.conversationId}>
                  {e.platform} · {conversationLabel(e.platform, e.conversationId)}
                </td>
                <td class="summary">{e.summary}</td>
                <td>{dateTime(e.receivedAt, serverNow)}</td>
                <td>{e.setAsideAt ? dateTime(e.setAsideAt, serverNow) : ''}</td>
                <td class="error">{e.reason ?? ''}</td>
                {!readOnly && (
                  <td class="actions">
                    <span class="buttons">
                      <button disabled={busy} onClick={() => void act(`set-aside/${e.id}/retry`, `Retry event #${e.id}`)}>Retry</button>
                      <button
                        class="danger"
                        disabled={busy}
                        onClick={() => {
                          if (window.confirm(`Discard event #${e.id}? It is never processed: the bot never sees it.`)) void act(`set-aside/${e.id}/discard`, `Discard event #${e.id}`);
                        }}
                      >
                        Discard…
                      </button>
                    </span>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
