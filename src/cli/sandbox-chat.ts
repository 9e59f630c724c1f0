/**
 * `handoff sandbox chat`: play the customer against a running sandbox (or any Chatwoot-compatible
 * server's public API) from the terminal. Type a line to send it; replies are printed as they come.
 */
import readline from 'node:readline';
import axios from 'axios';

interface PublicMessage {
  id: number;
  content: string | null;
  message_type: number;
  content_type?: string;
  content_attributes?: { items?: Array<{ title: string; value: string }> };
  sender?: { name?: string; type?: string } | null;
}

export async function sandboxChat(args: { url?: string; inbox?: string; name?: string }, out: (line: string) => void): Promise<number> {
  const base = (args.url ?? 'http://127.0.0.1:3979').replace(/\/+$/, '');
  const pub = `${base}/public/api/v1/inboxes/${args.inbox ?? 'sandbox-inbox'}`;
  const http = axios.create({ timeout: 5000 });
  const contact = (await http.post(`${pub}/contacts`, { name: args.name ?? 'Terminal customer' })).data as { source_id: string };
  const conversation = (await http.post(`${pub}/contacts/${contact.source_id}/conversations`, {})).data as { id: number };
  const messagesUrl = `${pub}/contacts/${contact.source_id}/conversations/${conversation.id}/messages`;
  out(`Conversation ${conversation.id} started. Type a message (Ctrl+C to leave).`);

  const seen = new Set<number>();
  const poll = setInterval(() => {
    void http
      .get(messagesUrl)
      .then((res) => {
        for (const m of res.data as PublicMessage[]) {
          if (seen.has(m.id)) continue;
          seen.add(m.id);
          if (m.message_type === 0) continue; // our own
          const who = m.message_type === 2 ? 'system' : (m.sender?.name ?? 'agent');
          out(`${who}: ${m.content ?? ''}`);
          for (const item of m.content_attributes?.items ?? []) out(`   [${item.value}] ${item.title}`);
        }
      })
      .catch(() => undefined);
  }, 700);

  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const sent = (await http.post(messagesUrl, { content: line })).data as { id: number };
    seen.add(sent.id);
  }
  clearInterval(poll);
  return 0;
}

interface WoztellChatMessage {
  messageId: string;
  from: 'member' | 'bot' | 'agent';
  text?: string;
  item?: { buttons?: Array<{ title: string; payload: string }> };
}

/** The same, as a member of the sandbox WOZTELL channel (`/sandbox/*` of the emulation). */
export async function sandboxChatWoztell(args: { url?: string; name?: string }, out: (line: string) => void): Promise<number> {
  const base = (args.url ?? 'http://127.0.0.1:3980').replace(/\/+$/, '');
  const http = axios.create({ timeout: 5000 });
  const member = (await http.post(`${base}/sandbox/members`, { name: args.name ?? 'Terminal customer' })).data as { memberId: string };
  const messagesUrl = `${base}/sandbox/members/${member.memberId}/messages`;
  out(`WOZTELL member ${member.memberId} created. Type a message; a button's payload works too (Ctrl+C to leave).`);

  const seen = new Set<string>();
  const poll = setInterval(() => {
    void http
      .get(messagesUrl)
      .then((res) => {
        for (const m of res.data as WoztellChatMessage[]) {
          if (seen.has(m.messageId)) continue;
          seen.add(m.messageId);
          if (m.from === 'member') continue;
          out(`${m.from}: ${m.text ?? ''}`);
          for (const b of m.item?.buttons ?? []) out(`   [${b.payload}] ${b.title}`);
        }
      })
      .catch(() => undefined);
  }, 700);

  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    await http.post(messagesUrl, { text: line });
  }
  clearInterval(poll);
  return 0;
}
