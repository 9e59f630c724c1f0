/** The live list of conversations: platform, id, owner and since when, last message, how long a handed-off customer has waited. */
import { useState } from 'preact/hooks';
import { get, type Conversation, type Owner } from './api';
import { conversationLabel, elapsed } from './format';
import { useInterval, useThrottledReload } from './live';

const ROLE_LABEL = { customer: 'Customer', bot: 'Bot', agent: 'Agent' } as const;

export function ConversationList({ version, selected, onSelect }: { version: number; selected?: string; onSelect: (c: Conversation) => void }) {
  const [platform, setPlatform] = useState('');
  const [owner, setOwner] = useState<Owner | ''>('');
  const [rows, setRows] = useState<Conversation[]>([]);
  const [skew, setSkew] = useState(0);
  const [now, setNow] = useState(Date.now());
  const [problem, setProblem] = useState<string | undefined>(undefined);

  const load = async () => {
    const query = new URLSearchParams({ limit: '100', ...(platform ? { platform } : {}), ...(owner ? { owner } : {}) });
    try {
      const answer = await get<{ now: number; conversations: Conversation[] }>(`conversations?${query}`);
      setSkew(answer.now - Date.now());
      setRows(answer.conversations);
      setProblem(undefined);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };
  useThrottledReload(version, `${platform}|${owner}`, load);
  // Waiting times and "since" tick between changes.
  useInterval(() => setNow(Date.now()), 1000);
  const serverNow = now + skew;

  return (
    <section class="list" aria-label="Conversations">
      <div class="filters">
        <label>
          Platform
          <select value={platform} onChange={(e) => setPlatform((e.target as HTMLSelectElement).value)} data-testid="filter-platform">
            <option value="">all</option>
            <option value="nimchat">Nimchat</option>
            <option value="woztell">WOZTELL</option>
          </select>
        </label>
        <label>
          Owner
          <select value={owner} onChange={(e) => setOwner((e.target as HTMLSelectElement).value as Owner | '')} data-testid="filter-owner">
            <option value="">all</option>
            <option value="bot">bot</option>
            <option value="human">human</option>
            <option value="ticket">ticket</option>
          </select>
        </label>
        <span class="muted">{rows.length} shown</span>
      </div>
      {problem && <p class="problem">{problem}</p>}
      <ul class="conversations">
        {rows.length === 0 && <li class="empty">No conversation yet.</li>}
        {rows.map((c) => (
          <li key={c.conversationId}>
            <button class={c.conversationId === selected ? 'row selected' : 'row'} onClick={() => onSelect(c)} data-conversation={c.conversationId} data-owner={c.owner}>
              <span class="row-head">
                <span class={`platform ${c.platform}`}>{c.platform}</span>
                <span class="cid" title={c.conversationId}>
                  {conversationLabel(c.platform, c.conversationId)}
                </span>
                <span class={`owner ${c.owner}`}>{c.owner}</span>
                <span class="muted since">for {elapsed(Math.max(0, serverNow - c.ownerSince))}</span>
              </span>
              {c.lastMessage && (
                <span class="last">
                  <b>{ROLE_LABEL[c.lastMessage.role]}:</b> {c.lastMessage.text}
                </span>
              )}
              {c.owner !== 'bot' && c.waitingSince !== undefined && <span class="waiting">waiting {elapsed(Math.max(0, serverNow - c.waitingSince))}</span>}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
