/** Sandbox mode: the human agent's side of the selected conversation (Nimchat's agent app, WOZTELL's Inbox). */
import { useState } from 'preact/hooks';
import { get, post, type Conversation, type SessionInfo } from './api';
import { useThrottledReload } from './live';

export function AgentDesk({ conversation, play, version }: { conversation: Conversation; play: NonNullable<SessionInfo['play']>; version: number }) {
  if (conversation.platform === 'nimchat' && play.nimchat) return <NimchatAgent conversationId={conversation.conversationId} version={version} />;
  if (conversation.platform === 'woztell' && play.woztell) return <WoztellAgent conversationId={conversation.conversationId} folders={play.woztell.folders} version={version} />;
  return null;
}

interface AgentMessage {
  id: number;
  content: string | null;
  message_type: number;
  private?: boolean;
  sender?: { name?: string; type?: string };
}

function NimchatAgent({ conversationId, version }: { conversationId: string; version: number }) {
  const displayId = conversationId.split(':')[1] ?? '';
  const [messages, setMessages] = useState<AgentMessage[]>([]);
  const [status, setStatus] = useState('');
  const [text, setText] = useState('');
  const [isPrivate, setPrivate] = useState(false);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const base = `play/nimchat/conversations/${encodeURIComponent(displayId)}`;
  const load = async () => {
    const [m, c] = await Promise.all([get<{ payload: AgentMessage[] }>(`${base}/messages`), get<{ status?: string }>(base)]);
    setMessages(m.payload);
    setStatus(c.status ?? '');
  };
  useThrottledReload(version, conversationId, load);
  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      setProblem(undefined);
      await load();
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };
  return (
    <section class="agent" aria-label="The human agent" data-testid="nimchat-agent">
      <h3>
        Agent (Nimchat) · status <span class={`status ${status}`}>{status || '?'}</span>
      </h3>
      <ul class="agent-messages">
        {messages.map((m) => (
          <li key={m.id} class={m.private ? 'private' : m.message_type === 0 ? 'incoming' : 'outgoing'}>
            <b>{m.private ? 'private note' : m.message_type === 0 ? 'customer' : m.message_type === 1 ? (m.sender?.name ?? 'bot') : 'activity'}:</b> {m.content}
          </li>
        ))}
      </ul>
      {problem && <p class="problem">{problem}</p>}
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          const content = text.trim();
          if (!content) return;
          setText('');
          void act(() => post(`${base}/messages`, { content, private: isPrivate }));
        }}
      >
        <input value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} placeholder="Reply as the agent…" aria-label="Agent reply" />
        <label class="check">
          <input type="checkbox" checked={isPrivate} onChange={(e) => setPrivate((e.target as HTMLInputElement).checked)} /> private
        </label>
        <button type="submit">Reply</button>
      </form>
      <div class="buttons">
        Set status:
        {['open', 'pending', 'resolved', 'snoozed'].map((s) => (
          <button key={s} disabled={s === status} onClick={() => void act(() => post(`${base}/status`, { status: s }))}>
            {s}
          </button>
        ))}
        <span class="muted">(pending gives it back to the bot)</span>
      </div>
    </section>
  );
}

interface Thread {
  folder?: string;
  userId?: string;
  title?: string;
  notes?: Array<{ message: string; at: number }>;
}

function WoztellAgent({ conversationId, folders, version }: { conversationId: string; folders: string[]; version: number }) {
  const memberId = conversationId.split(':')[1] ?? '';
  const [thread, setThread] = useState<Thread | undefined>(undefined);
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const base = `play/woztell/members/${encodeURIComponent(memberId)}`;
  const load = async () => setThread(await get<Thread>(`${base}/thread`));
  useThrottledReload(version, conversationId, load);
  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      setProblem(undefined);
      await load();
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };
  const folder = thread?.folder ?? '?';
  const notes = thread?.notes ?? [];
  return (
    <section class="agent" aria-label="The Inbox agent" data-testid="woztell-agent">
      <h3>
        Inbox agent (WOZTELL) · folder <span class="status">{folder}</span>
        {thread?.userId && <span class="muted"> · assigned {thread.userId}</span>}
      </h3>
      {notes.length > 0 && (
        <ul class="agent-messages">
          {notes.map((n, i) => (
            <li key={i} class="private">
              <b>internal note:</b> {n.message}
            </li>
          ))}
        </ul>
      )}
      {problem && <p class="problem">{problem}</p>}
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          const value = text.trim();
          if (!value) return;
          setText('');
          void act(() => post(`${base}/agent-messages`, { text: value }));
        }}
      >
        <input value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} placeholder="Answer as the Inbox agent…" aria-label="Inbox agent reply" />
        <button type="submit">Answer</button>
      </form>
      <div class="buttons">
        Move thread to:
        {folders.map((f) => (
          <button key={f} disabled={f === folder} onClick={() => void act(() => post(`${base}/thread`, { folder: f }))}>
            {f}
          </button>
        ))}
        <span class="muted">(bot gives the member back to the bot)</span>
      </div>
    </section>
  );
}
