/** Pending and failed platform actions, and events set aside after repeated failures, each with its last error and Retry / Discard. */
import { useState } from 'preact/hooks';
import { get, post, type Conversation, type OutboxItem, type SetAsideItem } from './api';
import { clock, dateTime } from './format';
import { useThrottledReload } from './live';

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

  const load = async () => {
    const [a, e] = await Promise.all([get<{ actions: OutboxItem[] }>('outbox?limit=500'), get<{ events: SetAsideItem[] }>('set-aside?limit=500')]);
    setActions(a.actions);
    setEvents(e.events);
    onCount(a.actions.length + e.events.length);
  };
  useThrottledReload(version + tick, 'outbox', load);

  const act = async (path: string, label: string) => {
    try {
      await post(path);
      setMessage({ ok: true, text: `${label}: done` });
    } catch (error) {
      setMessage({ ok: false, text: `${label}: ${error instanceof Error ? error.message : String(error)}` });
    }
    setTick((t) => t + 1);
  };
  const open = (platform: string, conversationId: string) => onOpen({ platform, conversationId, firstAt: 0, lastAt: 0, owner: 'bot', ownerSince: 0 });

  return (
    <section class="stuck">
      {message && (
        <p class={message.ok ? 'notice' : 'problem'} role="status">
          {message.text}
        </p>
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
              {!readOnly && <th />}
            </tr>
          </thead>
          <tbody>
            {actions.map((a) => (
              <tr key={a.id} data-outbox={a.id} class={a.status}>
                <td>{a.id}</td>
                <td>
                  <button class="link" onClick={() => open(a.platform, a.conversationId)}>
                    {a.platform} <code>{a.conversationId}</code>
                  </button>
                </td>
                <td>
                  {a.kind}
                  {a.steps.length > 0 && <small class="muted"> (done: {a.steps.join(', ')})</small>}
                </td>
                <td>
                  <span class={`status ${a.status}`}>{a.status}</span>
                </td>
                <td>{a.attempts}</td>
                <td>{a.status === 'pending' ? clock(a.nextAttemptAt) : a.finishedAt ? dateTime(a.finishedAt) : ''}</td>
                <td class="summary">{a.summary}</td>
                <td class="error">{a.lastError ?? ''}</td>
                {!readOnly && (
                  <td class="buttons">
                    <button onClick={() => void act(`outbox/${a.id}/retry`, `Retry #${a.id}`)}>Retry</button>
                    <button class="danger" onClick={() => void act(`outbox/${a.id}/discard`, `Discard #${a.id}`)}>
                      Discard
                    </button>
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
              {!readOnly && <th />}
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id} data-event={e.id}>
                <td>{e.id}</td>
                <td>
                  {e.platform} <code>{e.conversationId}</code>
                </td>
                <td class="summary">{e.summary}</td>
                <td>{dateTime(e.receivedAt)}</td>
                <td>{e.setAsideAt ? dateTime(e.setAsideAt) : ''}</td>
                <td class="error">{e.reason ?? ''}</td>
                {!readOnly && (
                  <td class="buttons">
                    <button onClick={() => void act(`set-aside/${e.id}/retry`, `Retry event #${e.id}`)}>Retry</button>
                    <button class="danger" onClick={() => void act(`set-aside/${e.id}/discard`, `Discard event #${e.id}`)}>
                      Discard
                    </button>
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
