/**
 * The sandbox Nimchat's behaviour: conversations that start `pending` in a bot inbox and follow the
 * real status rules, messages, assignments, labels, and the events each change fires.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SandboxHttpError } from '../router';
import {
  ACCOUNT,
  type MessageType,
  type SandboxAgentBot,
  type SandboxAttachment,
  type SandboxContact,
  type SandboxConversation,
  type SandboxInbox,
  type SandboxMessage,
  type SandboxUser,
  type SenderRef,
} from './nimchat-model';

export type SandboxEvent =
  | { kind: 'message'; event: 'message_created' | 'message_updated'; message: SandboxMessage }
  | { kind: 'conversation'; event: string; conversation: SandboxConversation; changed: Record<string, { previous_value: unknown; current_value: unknown }> | null }
  | { kind: 'widget'; contact: SandboxContact };

export type ConversationStatus = SandboxConversation['status'];

export const RATE_LIMIT_PER_MINUTE = 200;

export class NimchatSandboxState {
  readonly users: SandboxUser[] = [
    { id: 1, name: 'Alex Admin', email: 'admin@sandbox.test', role: 'administrator', accessToken: 'sandbox-admin-token' },
    { id: 2, name: 'Sam Agent', email: 'sam@sandbox.test', role: 'agent', accessToken: 'sandbox-agent-token' },
  ];
  readonly teams = [{ id: 1, name: 'Support' }];
  readonly inboxes: SandboxInbox[] = [{ id: 1, name: 'Sandbox Support', identifier: 'sandbox-inbox', agentBotId: null }];
  readonly agentBots = new Map<number, SandboxAgentBot>();
  readonly contacts = new Map<number, SandboxContact>();
  readonly conversations = new Map<number, SandboxConversation>();
  /** Bot handoffs Nimchat recorded (pending → open by the bot token). */
  readonly handoffs: Array<{ conversationId: number; at: number }> = [];
  readonly files = new Map<string, SandboxAttachment>();
  private nextId = { bot: 1, contact: 1, conversation: 1, message: 1, attachment: 1 };
  private lastUpdate = 0;

  constructor(
    private readonly emit: (event: SandboxEvent) => void,
    private readonly now: () => number,
    private readonly baseUrl: () => string,
  ) {}

  /** A strictly increasing `updated_at` (unix seconds with a fraction), like the real column. */
  private touch(conv: SandboxConversation): void {
    const t = Math.max(this.now() / 1000, this.lastUpdate + 0.001);
    this.lastUpdate = t;
    conv.updated_at = Number(t.toFixed(3));
  }

  conversation(id: number): SandboxConversation {
    const conv = this.conversations.get(id);
    if (!conv) throw new SandboxHttpError(404, 'Resource could not be found');
    return conv;
  }

  inboxByIdentifier(identifier: string): SandboxInbox {
    const inbox = this.inboxes.find((i) => i.identifier === identifier);
    if (!inbox) throw new SandboxHttpError(404, 'Resource could not be found');
    return inbox;
  }

  botOfInbox(inboxId: number): SandboxAgentBot | undefined {
    const inbox = this.inboxes.find((i) => i.id === inboxId);
    return inbox?.agentBotId ? this.agentBots.get(inbox.agentBotId) : undefined;
  }

  // ---- agent bots

  createBot(body: { name?: unknown; description?: unknown; outgoing_url?: unknown }): SandboxAgentBot {
    if (typeof body.name !== 'string' || !body.name) throw new SandboxHttpError(422, "Name can't be blank");
    const bot: SandboxAgentBot = {
      id: this.nextId.bot++,
      name: body.name,
      description: typeof body.description === 'string' ? body.description : '',
      outgoing_url: typeof body.outgoing_url === 'string' ? body.outgoing_url : '',
      account_id: ACCOUNT.id,
      accessToken: randomBytes(12).toString('hex'),
      secret: randomBytes(16).toString('hex'),
    };
    this.agentBots.set(bot.id, bot);
    return bot;
  }

  // ---- contacts and conversations

  createContact(inbox: SandboxInbox, body: Record<string, unknown>): SandboxContact {
    const id = this.nextId.contact++;
    const contact: SandboxContact = {
      id,
      name: typeof body.name === 'string' && body.name ? body.name : `visitor-${id}`,
      email: typeof body.email === 'string' ? body.email : null,
      phone_number: typeof body.phone_number === 'string' ? body.phone_number : null,
      identifier: typeof body.identifier === 'string' ? body.identifier : null,
      sourceId: randomUUID(),
      pubsubToken: randomBytes(12).toString('hex'),
      inboxId: inbox.id,
      custom_attributes: (body.custom_attributes as Record<string, unknown>) ?? {},
    };
    this.contacts.set(id, contact);
    return contact;
  }

  contactBySource(sourceId: string): SandboxContact {
    for (const c of this.contacts.values()) if (c.sourceId === sourceId) return c;
    throw new SandboxHttpError(404, 'Resource could not be found');
  }

  createConversation(contact: SandboxContact, customAttributes: Record<string, unknown> = {}): SandboxConversation {
    const now = this.now() / 1000;
    const conv: SandboxConversation = {
      id: this.nextId.conversation++,
      accountId: ACCOUNT.id,
      inboxId: contact.inboxId,
      contactId: contact.id,
      // A new conversation in an inbox with an active bot starts pending: the bot's queue.
      status: this.botOfInbox(contact.inboxId) ? 'pending' : 'open',
      priority: null,
      assigneeId: null,
      teamId: null,
      labels: [],
      custom_attributes: customAttributes,
      snoozed_until: null,
      created_at: Math.floor(now),
      updated_at: now,
      messages: [],
      recentApiMessages: [],
    };
    this.touch(conv);
    this.conversations.set(conv.id, conv);
    return conv;
  }

  // ---- messages

  addMessage(
    conv: SandboxConversation,
    input: {
      content: string | null;
      message_type: MessageType;
      sender: SenderRef;
      private?: boolean;
      content_type?: string;
      content_attributes?: Record<string, unknown>;
      files?: Array<{ name: string; contentType: string; data: Buffer }>;
      viaApi?: boolean;
    },
  ): SandboxMessage {
    if (input.viaApi) {
      const nowMs = this.now();
      conv.recentApiMessages = conv.recentApiMessages.filter((t) => nowMs - t < 60_000);
      if (conv.recentApiMessages.length >= RATE_LIMIT_PER_MINUTE) throw new SandboxHttpError(422, 'Too many messages');
      conv.recentApiMessages.push(nowMs);
    }
    if ((input.files?.length ?? 0) > 15) throw new SandboxHttpError(422, 'Too many attachments');
    if (!input.content && !(input.files?.length) && input.message_type !== 'activity') {
      throw new SandboxHttpError(422, "Content can't be blank");
    }
    const message: SandboxMessage = {
      id: this.nextId.message++,
      conversationId: conv.id,
      content: input.content,
      content_type: input.content_type ?? 'text',
      content_attributes: input.content_attributes ?? {},
      message_type: input.message_type,
      private: input.private === true,
      created_at: Math.floor(this.now() / 1000),
      sender: input.sender,
      attachments: (input.files ?? []).map((f) => this.storeFile(f)),
    };
    conv.messages.push(message);
    if (input.message_type === 'incoming') this.reopenOnIncoming(conv);
    this.touch(conv);
    if (message.message_type !== 'activity') this.emit({ kind: 'message', event: 'message_created', message });
    return message;
  }

  private storeFile(f: { name: string; contentType: string; data: Buffer }): SandboxAttachment {
    const id = this.nextId.attachment++;
    const key = randomBytes(8).toString('hex');
    const extension = /\.([A-Za-z0-9]+)$/.exec(f.name)?.[1] ?? null;
    const major = f.contentType.split('/')[0] ?? '';
    const attachment: SandboxAttachment = {
      id,
      file_type: ['image', 'audio', 'video'].includes(major) ? major : 'file',
      extension,
      data_url: `${this.baseUrl()}/rails/active_storage/blobs/redirect/${key}/${encodeURIComponent(f.name)}`,
      thumb_url: '',
      file_size: f.data.length,
      name: f.name,
      contentType: f.contentType,
      data: f.data,
    };
    this.files.set(key, attachment);
    return attachment;
  }

  /** A contact message on a resolved conversation of a bot inbox makes it pending; on a snoozed one, open. */
  private reopenOnIncoming(conv: SandboxConversation): void {
    if (conv.status === 'resolved') this.setStatus(conv, this.botOfInbox(conv.inboxId) ? 'pending' : 'open');
    else if (conv.status === 'snoozed') this.setStatus(conv, 'open');
  }

  updateSubmittedValues(conv: SandboxConversation, messageId: number, submitted: unknown): SandboxMessage {
    const message = conv.messages.find((m) => m.id === messageId);
    if (!message) throw new SandboxHttpError(404, 'Resource could not be found');
    message.content_attributes = { ...message.content_attributes, submitted_values: submitted };
    this.touch(conv);
    this.emit({ kind: 'message', event: 'message_updated', message });
    return message;
  }

  // ---- conversation changes

  setStatus(conv: SandboxConversation, status: ConversationStatus, snoozedUntil?: number): void {
    const previous = conv.status;
    if (previous === status) return;
    conv.status = status;
    conv.snoozed_until = status === 'snoozed' ? (snoozedUntil ?? null) : null;
    this.touch(conv);
    const changed = { status: { previous_value: previous, current_value: status } };
    this.emit({ kind: 'conversation', event: 'conversation_status_changed', conversation: conv, changed });
    if (status === 'open') this.emit({ kind: 'conversation', event: 'conversation_opened', conversation: conv, changed: null });
    if (status === 'resolved') this.emit({ kind: 'conversation', event: 'conversation_resolved', conversation: conv, changed: null });
  }

  /** toggle_status: pending → open by the bot token is recorded as a bot handoff. */
  toggleStatus(conv: SandboxConversation, status: unknown, byBot: boolean, snoozedUntil?: number): ConversationStatus {
    let next: ConversationStatus;
    if (status === undefined || status === null || status === '') next = conv.status === 'open' ? 'resolved' : 'open';
    else if (status === 'open' || status === 'resolved' || status === 'pending' || status === 'snoozed') next = status;
    else throw new SandboxHttpError(422, `'${String(status)}' is not a valid status`);
    if (byBot && conv.status === 'pending' && next === 'open') this.handoffs.push({ conversationId: conv.id, at: this.now() });
    this.setStatus(conv, next, snoozedUntil);
    return conv.status;
  }

  updateAttributes(conv: SandboxConversation, changes: Partial<Pick<SandboxConversation, 'priority' | 'assigneeId' | 'teamId' | 'labels' | 'custom_attributes'>>): void {
    const changed: Record<string, { previous_value: unknown; current_value: unknown }> = {};
    for (const [key, value] of Object.entries(changes) as Array<[keyof typeof changes, unknown]>) {
      const previous = conv[key];
      if (JSON.stringify(previous) === JSON.stringify(value)) continue;
      (conv as unknown as Record<string, unknown>)[key] = value;
      const name = key === 'assigneeId' ? 'assignee_id' : key === 'teamId' ? 'team_id' : key === 'labels' ? 'label_list' : key;
      changed[name] = { previous_value: previous, current_value: value };
    }
    if (Object.keys(changed).length === 0) return;
    this.touch(conv);
    this.emit({ kind: 'conversation', event: 'conversation_updated', conversation: conv, changed });
  }

  /** Assigning a human to a pending conversation of a bot inbox opens it (4.15+). */
  assign(conv: SandboxConversation, body: Record<string, unknown>): unknown {
    if ('assignee_id' in body && body.assignee_id !== undefined) {
      const id = body.assignee_id === null ? null : Number(body.assignee_id);
      const user = id === null ? null : this.users.find((u) => u.id === id);
      if (id !== null && !user) throw new SandboxHttpError(404, 'Resource could not be found');
      this.updateAttributes(conv, { assigneeId: id });
      if (user && conv.status === 'pending' && this.botOfInbox(conv.inboxId)) this.setStatus(conv, 'open');
      return user ? { id: user.id, name: user.name, type: 'user' } : null;
    }
    if ('team_id' in body) {
      const id = body.team_id === null ? null : Number(body.team_id);
      const team = id === null ? null : this.teams.find((t) => t.id === id);
      if (id !== null && !team) throw new SandboxHttpError(404, 'Resource could not be found');
      this.updateAttributes(conv, { teamId: id });
      return team ?? null;
    }
    throw new SandboxHttpError(422, 'assignee_id or team_id is required');
  }
}
