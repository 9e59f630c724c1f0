/** A Nimchat web-chat customer: a contact and a conversation through the public client API, messages polled while shown. */
import { useState } from 'preact/hooks';
import { get, post, type Conversation } from './api';
import { ChatWindow, type ChatLine } from './chat-window';
import { useInterval } from './live';
import { conversationLabel } from './format';

interface Customer {
  name: string;
  sourceId: string;
  displayId: number;
  conversationId: string;
}

interface PublicMessage {
  id: number;
  content: string | null;
  message_type: number;
  content_type?: string;
  content_attributes?: { items?: Array<{ title: string; value: string }>; submitted_values?: unknown };
}

const STORE_KEY = 'console.nimchat.customers';

/** A satisfaction survey (`input_csat`) as the widget offers it: five ratings. */
const RATINGS = [1, 2, 3, 4, 5].map((n) => ({ title: `${n} ★`, value: `rating:${n}` }));

export function NimchatCustomer({ visible, onOpen }: { visible: boolean; onOpen: (c: Conversation) => void }) {
  const [customers, setCustomers] = useState<Customer[]>(() => JSON.parse(sessionStorage.getItem(STORE_KEY) ?? '[]') as Customer[]);
  const [current, setCurrent] = useState<Customer | undefined>(customers.at(-1));
  const [lines, setLines] = useState<ChatLine[]>([]);
  const [name, setName] = useState('Ada');
  const [problem, setProblem] = useState<string | undefined>(undefined);

  const base = (c: Customer) => `play/nimchat/customers/${encodeURIComponent(c.sourceId)}/conversations/${c.displayId}/messages`;
  const refresh = async (c = current) => {
    if (!c) return;
    const messages = await get<PublicMessage[]>(base(c));
    setLines(
      messages.map((m): ChatLine => ({
        id: String(m.id),
        from: m.message_type === 0 ? 'customer' : m.message_type === 1 ? 'bot' : 'system',
        text: m.content ?? '',
        choices: m.content_attributes?.submitted_values ? undefined : m.content_type === 'input_select' ? m.content_attributes?.items : m.content_type === 'input_csat' ? RATINGS : undefined,
      })),
    );
  };
  useInterval(() => {
    if (visible) void refresh().catch(() => undefined);
  }, 1000);

  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const made = await post<Omit<Customer, 'name'>>('play/nimchat/customers', { name: name.trim() || 'Customer' });
      const customer = { ...made, name: name.trim() || 'Customer' };
      const all = [...customers, customer];
      sessionStorage.setItem(STORE_KEY, JSON.stringify(all));
      setCustomers(all);
      setCurrent(customer);
      setLines([]);
      setProblem(undefined);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };

  return (
    <div class="role">
      <form class="inline" onSubmit={(e) => void create(e)}>
        <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} aria-label="Customer name" />
        <button type="submit" data-testid="nimchat-new-customer">
          New Nimchat customer
        </button>
      </form>
      {problem && <p class="problem">{problem}</p>}
      {customers.length > 1 && (
        <select value={current?.conversationId} onChange={(e) => {
          const c = customers.find((x) => x.conversationId === (e.target as HTMLSelectElement).value);
          setCurrent(c);
          setLines([]);
          void refresh(c);
        }}>
          {customers.map((c) => (
            <option key={c.conversationId} value={c.conversationId}>
              {c.name} · conversation {c.displayId}
            </option>
          ))}
        </select>
      )}
      {current && (
        <>
          <p class="muted">
            {current.name}, {conversationLabel('nimchat', current.conversationId)}{' '}
            <button class="link" onClick={() => onOpen({ platform: 'nimchat', conversationId: current.conversationId, firstAt: 0, lastAt: 0, owner: 'bot', ownerSince: 0 })}>
              open its timeline
            </button>
          </p>
          <ChatWindow
            testId="nimchat-chat"
            lines={lines}
            placeholder="Write as the customer…"
            onSend={async (text) => {
              await post(base(current), { content: text });
              await refresh();
            }}
            onChoose={async (line, choice) => {
              const rating = /^rating:([1-5])$/.exec(choice.value);
              if (rating) await post(`${base(current)}/${line.id}/rate`, { rating: Number(rating[1]) });
              else await post(`${base(current)}/${line.id}/choose`, choice);
              await refresh();
            }}
          />
        </>
      )}
    </div>
  );
}
