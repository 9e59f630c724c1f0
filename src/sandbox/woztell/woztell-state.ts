/**
 * The world of the sandbox WOZTELL: one app, one channel, members with their live-chat flag, Inbox
 * threads in folders with an optional assignee, Inbox users (agents) with folder access, and what each
 * member saw. The sandbox's routes read and change it; tests inspect it.
 */

export interface SandboxMember {
  memberId: string;
  /** The platform user id (a phone number on WhatsApp). */
  externalId: string;
  name: string;
  liveChat: boolean;
}

export interface SandboxThread {
  threadId: string;
  memberId: string;
  channelId: string;
  externalId: string;
  title: string;
  folder: string;
  /** Omitted when unassigned, as the real API does. */
  userId?: string;
  notes: Array<{ message: string; at: number }>;
}

export interface SandboxInboxUser {
  userId: string;
  name: string;
  email: string;
  role: 'ADMIN' | 'AGENT';
  agentRole: 'MANAGER' | 'AGENT';
  /** Folders this user can see. */
  folders: string[];
}

/** A message in a member's chat, as the member (or the agent UI) sees it. */
export interface SandboxChatMessage {
  messageId: string;
  from: 'member' | 'bot' | 'agent';
  type: string;
  text?: string;
  item?: Record<string, unknown>;
  at: number;
}

export const SANDBOX_APP_ID = '64a1f0c2b7e5d91a2c3b4d5e';
export const SANDBOX_CHANNEL_ID = '64a1f0c2b7e5d91a2c3b4d5f';
export const SANDBOX_INTEGRATION_ID = '64a1f0c2b7e5d91a2c3b4d60';
export const SANDBOX_INBOX_SIGNATURE = 'c2FuZGJveC1pbmJveC1zaWduYXR1cmUtMTIzNDU2Nzg=';
export const SANDBOX_ACCESS_TOKEN = 'sandbox-woztell-token';
export const SANDBOX_CHANNEL_SECRET = 'sandbox-woztell-channel-secret';
export const SANDBOX_BOT_NUMBER = '85268227287';
export const SANDBOX_FOLDERS = ['main', 'bot', 'done', 'urgent'];

export class WoztellSandboxState {
  readonly members = new Map<string, SandboxMember>();
  readonly threads = new Map<string, SandboxThread>();
  readonly chats = new Map<string, SandboxChatMessage[]>();
  readonly folders = new Set(SANDBOX_FOLDERS);
  readonly users: SandboxInboxUser[] = [
    { userId: '6474449cdfc4ee3646d392b1', name: 'Anna (agent)', email: 'anna@sandbox.test', role: 'AGENT', agentRole: 'AGENT', folders: ['main', 'done'] },
    { userId: '6474449cdfc4ee3646d392b2', name: 'Ben (manager)', email: 'ben@sandbox.test', role: 'ADMIN', agentRole: 'MANAGER', folders: ['main', 'bot', 'done', 'urgent'] },
    { userId: '6474449cdfc4ee3646d392b3', name: 'Cleo (agent)', email: 'cleo@sandbox.test', role: 'AGENT', agentRole: 'AGENT', folders: ['bot'] },
  ];
  private seq = 0;

  constructor(
    private readonly now: () => number,
    private readonly channelId = SANDBOX_CHANNEL_ID,
  ) {}

  nextId(prefix: string): string {
    this.seq += 1;
    return `${prefix}${this.now().toString(16)}${String(this.seq).padStart(6, '0')}`;
  }

  /** A new member with a thread in `main`, as a first message to the channel creates them. */
  createMember(name: string, externalId?: string): SandboxMember {
    const memberId = this.nextId('m');
    const member: SandboxMember = { memberId, externalId: externalId ?? `852${String(60000000 + this.members.size + 1)}`, name, liveChat: false };
    this.members.set(memberId, member);
    const threadId = `T${String(this.threads.size + 1).padStart(7, '0')}`;
    this.threads.set(memberId, { threadId, memberId, channelId: this.channelId, externalId: member.externalId, title: name, folder: 'main', notes: [] });
    this.chats.set(memberId, []);
    return member;
  }

  member(memberId: string): SandboxMember | undefined {
    return this.members.get(memberId);
  }

  thread(target: { memberId?: unknown; threadId?: unknown }): SandboxThread | undefined {
    if (typeof target.memberId === 'string') return this.threads.get(target.memberId);
    if (typeof target.threadId === 'string') return [...this.threads.values()].find((t) => t.threadId === target.threadId);
    return undefined;
  }

  record(memberId: string, message: Omit<SandboxChatMessage, 'at'>): SandboxChatMessage {
    const full = { ...message, at: this.now() };
    this.chats.get(memberId)?.push(full);
    return full;
  }
}
