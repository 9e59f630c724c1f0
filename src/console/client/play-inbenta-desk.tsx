/** The Inbenta agent's desk: the tickets the bot created, their history, an answer box and Close. */
import { useState } from 'preact/hooks';
import { get, post } from './api';
import { useInterval } from './live';

interface Ticket {
  uuid: number;
  full_uuid: string;
  title: string;
  message: string;
  status: { id: number; name: string };
  history?: { messages: Array<{ user: string; message: string }> };
  replies: Array<{ uuid: number; type: string; message: string }>;
}

export function InbentaDesk({ visible }: { visible: boolean }) {
  const [tickets, setTickets] = useState<Ticket[]>([]);
  const [drafts, setDrafts] = useState<Record<number, string>>({});
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const refresh = async () => setTickets(await get<Ticket[]>('play/inbenta/tickets'));
  useInterval(() => {
    if (visible) void refresh().catch(() => undefined);
  }, 2000);

  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      setProblem(undefined);
      await refresh();
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };

  return (
    <div class="role">
      {problem && <p class="problem">{problem}</p>}
      {tickets.length === 0 && <p class="muted">No ticket yet: in a chat, type “ticket” and follow the bot.</p>}
      {tickets.map((t) => (
        <article key={t.uuid} class="ticket" data-ticket={t.full_uuid}>
          <header>
            <b>{t.full_uuid}</b> <span class={`status ${t.status.name}`}>{t.status.name}</span>
          </header>
          <p class="ticket-title">{t.title}</p>
          <details>
            <summary>history ({t.history?.messages.length ?? 0}) and replies ({t.replies.length})</summary>
            <ul class="history">
              {t.history?.messages.map((m, i) => (
                <li key={`h${i}`}>
                  <b>{m.user}:</b> {m.message.replace(/<[^>]*>/g, '')}
                </li>
              ))}
              {t.replies.map((r) => (
                <li key={`r${r.uuid}`}>
                  <b>{r.type}:</b> {r.message.replace(/<[^>]*>/g, '')}
                </li>
              ))}
            </ul>
          </details>
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              const text = (drafts[t.uuid] ?? '').trim();
              if (!text) return;
              setDrafts({ ...drafts, [t.uuid]: '' });
              void act(() => post(`play/inbenta/tickets/${t.uuid}/answer`, { text }));
            }}
          >
            <input value={drafts[t.uuid] ?? ''} onInput={(e) => setDrafts({ ...drafts, [t.uuid]: (e.target as HTMLInputElement).value })} placeholder="Answer as the Inbenta agent…" aria-label="Answer" />
            <button type="submit">Answer</button>
            <button type="button" class="danger" onClick={() => void act(() => post(`play/inbenta/tickets/${t.uuid}/close`))}>
              Close
            </button>
          </form>
        </article>
      ))}
    </div>
  );
}
