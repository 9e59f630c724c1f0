/**
 * In sandbox mode the console lets a newcomer play every role: the customer of Nimchat and of WOZTELL,
 * the human agent (reply, change status, move the thread to a folder) and the Inbenta agent (answer,
 * close). Each request is validated here and carried out through the emulated platform's own HTTP
 * routes (the public client API, the application API with the sandbox agent's token, `/sandbox/*`), the
 * routes the sandbox banner's curl lines use; the agent's token stays on the server.
 */
import { z } from 'zod';
import { ConsoleHttpError, parseWith } from './console-http';

export interface SandboxLinks {
  nimchat?: { baseUrl: string; inboxIdentifier: string; agentToken: string; accountId: number };
  woztell?: { baseUrl: string; folders: string[]; channelId: string };
  inbenta?: { baseUrl: string };
}

/** A path segment a platform gave us (a source id, a member id, a ticket id): nothing that could climb out of its route. */
const Segment = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be an id (letters, digits, - and _)');
const Text = z.string().trim().min(1, 'must not be empty').max(4000);

const NewCustomer = z.object({ name: z.string().trim().min(1).max(80).optional(), email: z.email().max(200).optional() }).strict();
const CustomerMessage = z.object({ content: Text }).strict();
const Choice = z.object({ title: z.string().max(200), value: z.string().min(1).max(200) }).strict();
const Rating = z.object({ rating: z.number().int().min(1).max(5), feedback: z.string().max(2000).optional() }).strict();
const AgentMessage = z.object({ content: Text, private: z.boolean().optional() }).strict();
const Status = z.object({ status: z.enum(['open', 'pending', 'resolved', 'snoozed']) }).strict();
const NewMember = z.object({ name: z.string().trim().min(1).max(80).optional() }).strict();
const MemberMessage = z.union([z.object({ text: Text }).strict(), z.object({ payload: z.string().min(1).max(1000) }).strict()]);
const WoztellAgentMessage = z.object({ text: Text }).strict();
const ThreadChange = z.object({ folder: z.string().min(1).max(100).optional(), userId: z.string().min(1).max(100).nullable().optional(), liveChat: z.boolean().optional() }).strict();
const TicketAnswer = z.object({ text: Text }).strict();

export interface PlayRequest {
  method: 'GET' | 'POST';
  /** The path under /console/api/play/, split. */
  segments: string[];
  body: () => Promise<unknown>;
}

export class SandboxPlay {
  constructor(
    private readonly links: SandboxLinks,
    private readonly timeoutMs = 5000,
  ) {}

  /** What can be played here. */
  describe(): { nimchat: boolean; woztell?: { folders: string[] }; inbenta: boolean } {
    return { nimchat: Boolean(this.links.nimchat), ...(this.links.woztell ? { woztell: { folders: this.links.woztell.folders } } : {}), inbenta: Boolean(this.links.inbenta) };
  }

  async handle(req: PlayRequest): Promise<unknown> {
    const [platform, ...rest] = req.segments;
    if (req.method === 'GET' && platform === undefined) return this.describe();
    if (platform === 'nimchat' && this.links.nimchat) return this.nimchat(this.links.nimchat, req.method, rest, req.body);
    if (platform === 'woztell' && this.links.woztell) return this.woztell(this.links.woztell, req.method, rest, req.body);
    if (platform === 'inbenta' && this.links.inbenta) return this.inbenta(this.links.inbenta.baseUrl, req.method, rest, req.body);
    throw new ConsoleHttpError(404, 'not_found', 'no such role to play here');
  }

  private async nimchat(n: NonNullable<SandboxLinks['nimchat']>, method: string, path: string[], body: () => Promise<unknown>): Promise<unknown> {
    const pub = `${n.baseUrl}/public/api/v1/inboxes/${encodeURIComponent(n.inboxIdentifier)}`;
    const agent = { api_access_token: n.agentToken };
    const app = (conversation: string) => `${n.baseUrl}/api/v1/accounts/${n.accountId}/conversations/${seg(conversation)}`;
    const [a, b, c, d, e, f, g] = path;
    // customers: the public client API
    if (a === 'customers' && b === undefined && method === 'POST') {
      const input = parseWith(NewCustomer, await body(), 'body');
      const contact = (await this.call('POST', `${pub}/contacts`, { name: input.name ?? 'Customer', ...(input.email ? { email: input.email } : {}) })) as { source_id: string };
      const conversation = (await this.call('POST', `${pub}/contacts/${seg(contact.source_id)}/conversations`, {})) as { id: number };
      return { sourceId: contact.source_id, displayId: conversation.id, conversationId: `${n.accountId}:${conversation.id}` };
    }
    if (a === 'customers' && c === 'conversations' && e === 'messages') {
      const base = `${pub}/contacts/${seg(b)}/conversations/${seg(d)}/messages`;
      if (f === undefined && method === 'GET') return this.call('GET', base);
      if (f === undefined && method === 'POST') return this.call('POST', base, parseWith(CustomerMessage, await body(), 'body'));
      if (f !== undefined && g === 'choose' && method === 'POST') {
        const choice = parseWith(Choice, await body(), 'body');
        return this.call('PATCH', `${base}/${seg(f)}`, { submitted_values: [{ title: choice.title, value: choice.value }] });
      }
      if (f !== undefined && g === 'rate' && method === 'POST') {
        // The widget's answer to a satisfaction survey (`input_csat`).
        const { rating, feedback } = parseWith(Rating, await body(), 'body');
        return this.call('PATCH', `${base}/${seg(f)}`, { submitted_values: { csat_survey_response: { rating, ...(feedback ? { feedback_message: feedback } : {}) } } });
      }
    }
    // the human agent: the application API with the agent's token
    if (a === 'conversations' && b !== undefined) {
      if (c === undefined && method === 'GET') return this.call('GET', app(b), undefined, agent);
      if (c === 'messages' && method === 'GET') return this.call('GET', `${app(b)}/messages`, undefined, agent);
      if (c === 'messages' && method === 'POST') return this.call('POST', `${app(b)}/messages`, parseWith(AgentMessage, await body(), 'body'), agent);
      if (c === 'status' && method === 'POST') return this.call('POST', `${app(b)}/toggle_status`, parseWith(Status, await body(), 'body'), agent);
    }
    throw new ConsoleHttpError(404, 'not_found', 'no such Nimchat role route');
  }

  private async woztell(w: NonNullable<SandboxLinks['woztell']>, method: string, path: string[], body: () => Promise<unknown>): Promise<unknown> {
    const base = w.baseUrl;
    const [a, b, c] = path;
    if (a !== 'members') throw new ConsoleHttpError(404, 'not_found', 'no such WOZTELL role route');
    if (b === undefined && method === 'POST') {
      const member = (await this.call('POST', `${base}/sandbox/members`, parseWith(NewMember, await body(), 'body'))) as { memberId: string };
      return { ...member, conversationId: `${w.channelId}:${member.memberId}` };
    }
    const member = `${base}/sandbox/members/${seg(b)}`;
    if (c === 'messages' && method === 'GET') return this.call('GET', `${member}/messages`);
    if (c === 'messages' && method === 'POST') return this.call('POST', `${member}/messages`, parseWith(MemberMessage, await body(), 'body'));
    if (c === 'agent-messages' && method === 'POST') return this.call('POST', `${member}/agent-messages`, parseWith(WoztellAgentMessage, await body(), 'body'));
    if (c === 'thread' && method === 'GET') return this.call('GET', `${member}/thread`);
    if (c === 'thread' && method === 'POST') return this.call('POST', `${member}/thread`, parseWith(ThreadChange, await body(), 'body'));
    throw new ConsoleHttpError(404, 'not_found', 'no such WOZTELL role route');
  }

  private async inbenta(base: string, method: string, path: string[], body: () => Promise<unknown>): Promise<unknown> {
    const [a, b, c] = path;
    if (a !== 'tickets') throw new ConsoleHttpError(404, 'not_found', 'no such Inbenta role route');
    if (b === undefined && method === 'GET') return this.call('GET', `${base}/sandbox/tickets`);
    if (c === 'answer' && method === 'POST') return this.call('POST', `${base}/sandbox/tickets/${seg(b)}/answer`, parseWith(TicketAnswer, await body(), 'body'));
    if (c === 'close' && method === 'POST') return this.call('POST', `${base}/sandbox/tickets/${seg(b)}/close`, {});
    throw new ConsoleHttpError(404, 'not_found', 'no such Inbenta role route');
  }

  /** One call to an emulated platform; its refusal becomes ours, with its message. */
  private async call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      throw new ConsoleHttpError(502, 'sandbox_unreachable', `the emulated platform did not answer: ${error instanceof Error ? error.message : String(error)}`);
    }
    const text = await response.text();
    let value: unknown = text;
    try {
      value = text ? (JSON.parse(text) as unknown) : {};
    } catch {
      // plain text answers are passed on as they are
    }
    if (!response.ok) {
      const message = typeof value === 'object' && value && 'error' in value ? String((value as { error: unknown }).error) : text.slice(0, 300);
      throw new ConsoleHttpError(response.status >= 500 ? 502 : response.status, 'sandbox_refused', `the emulated platform answered ${response.status}: ${message}`);
    }
    return value;
  }
}

function seg(value: string | undefined): string {
  return encodeURIComponent(parseWith(Segment, value, 'path'));
}
