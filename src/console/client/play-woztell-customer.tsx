/** A WOZTELL member: created, writing and reading through the sandbox's `/sandbox/members` routes. */
import { useState } from 'preact/hooks';
import { get, post, type Conversation } from './api';
import { ChatWindow, type ChatLine } from './chat-window';
import { useInterval } from './live';

interface Member {
  name: string;
  memberId: string;
  conversationId: string;
}

interface MemberMessage {
  messageId: string;
  from: 'member' | 'bot' | 'agent';
  text?: string;
  item?: { buttons?: Array<{ title: string; payload: string }> };
}

const STORE_KEY = 'console.woztell.members';

export function WoztellCustomer({ visible, onOpen }: { visible: boolean; onOpen: (c: Conversation) => void }) {
  const [members, setMembers] = useState<Member[]>(() => JSON.parse(sessionStorage.getItem(STORE_KEY) ?? '[]') as Member[]);
  const [current, setCurrent] = useState<Member | undefined>(members.at(-1));
  const [lines, setLines] = useState<ChatLine[]>([]);
  const [name, setName] = useState('Ben');
  const [problem, setProblem] = useState<string | undefined>(undefined);

  const refresh = async (m = current) => {
    if (!m) return;
    const messages = await get<MemberMessage[]>(`play/woztell/members/${encodeURIComponent(m.memberId)}/messages`);
    setLines(
      messages.map((x): ChatLine => ({
        id: x.messageId,
        from: x.from === 'member' ? 'customer' : x.from,
        text: x.text ?? '',
        choices: x.item?.buttons?.map((b) => ({ title: b.title, value: b.payload })),
      })),
    );
  };
  useInterval(() => {
    if (visible) void refresh().catch(() => undefined);
  }, 1000);

  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const made = await post<{ memberId: string; conversationId: string }>('play/woztell/members', { name: name.trim() || 'Customer' });
      const member = { name: name.trim() || 'Customer', memberId: made.memberId, conversationId: made.conversationId };
      const all = [...members, member];
      sessionStorage.setItem(STORE_KEY, JSON.stringify(all));
      setMembers(all);
      setCurrent(member);
      setLines([]);
      setProblem(undefined);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };

  const path = (m: Member) => `play/woztell/members/${encodeURIComponent(m.memberId)}/messages`;
  return (
    <div class="role">
      <form class="inline" onSubmit={(e) => void create(e)}>
        <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} aria-label="Member name" />
        <button type="submit" data-testid="woztell-new-member">
          New WOZTELL member
        </button>
      </form>
      {problem && <p class="problem">{problem}</p>}
      {members.length > 1 && (
        <select value={current?.memberId} onChange={(e) => {
          const m = members.find((x) => x.memberId === (e.target as HTMLSelectElement).value);
          setCurrent(m);
          setLines([]);
          void refresh(m);
        }}>
          {members.map((m) => (
            <option key={m.memberId} value={m.memberId}>
              {m.name} · {m.memberId}
            </option>
          ))}
        </select>
      )}
      {current && (
        <>
          <p class="muted">
            {current.name}, member <code>{current.memberId}</code>{' '}
            <button class="link" onClick={() => onOpen({ platform: 'woztell', conversationId: current.conversationId, firstAt: 0, lastAt: 0, owner: 'bot', ownerSince: 0 })}>
              open its timeline
            </button>
          </p>
          <ChatWindow
            testId="woztell-chat"
            lines={lines}
            placeholder="Write as the member…"
            onSend={async (text) => {
              await post(path(current), { text });
              await refresh();
            }}
            onChoose={async (_line, choice) => {
              await post(path(current), { payload: choice.value });
              await refresh();
            }}
          />
        </>
      )}
    </div>
  );
}
