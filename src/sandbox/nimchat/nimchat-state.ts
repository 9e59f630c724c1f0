/**
 * The sandbox Nimchat's behaviour: conversations that start `pending` in a bot inbox and follow the
 * real status rules, contacts and the inboxes they are in, messages, assignments, labels, and the
 * events each change fires.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SandboxHttpError } from '../router';
import {
  ACCOUNT,
  type MessageType,
  type SandboxAgentBot,
  type SandboxAttachment,
  type SandboxContact,
  type SandboxContactInbox,
  type SandboxConversation,
  type SandboxInbox,
  type SandboxMessage,
  type SandboxTeam,
  type SandboxUser,
  type SandboxWorkingHour,
  type SenderRef,
} from './nimchat-model';

export type SandboxEvent =
  | { kind: 'message'; event: 'message_created' | 'message_updated'; message: SandboxMessage }
  | { kind: 'conversation'; event: string; conversation: SandboxConversation; changed: Record<string, { previous_value: unknown; current_value: unknown }> | null }
  | { kind: 'widget'; contactInbox: SandboxContactInbox };

export type ConversationStatus = SandboxConversation['status'];
export const CONVERSATION_STATUSES: readonly ConversationStatus[] = ['open', 'resolved', 'pending', 'snoozed'];

export const RATE_LIMIT_PER_MINUTE = 200;
/** Conversations per page of the conversation list; contacts per page of the contact list. */
export const CONVERSATIONS_PER_PAGE = 25;
export const CONTACTS_PER_PAGE = 15;

/** A record that fails validation: answered 422 `{message, attributes}` as the real server does. */
export class SandboxRecordInvalid extends SandboxHttpError {
  constructor(readonly problems: Array<{ attribute: string; message: string }>) {
    super(422, problems.map((p) => p.message).join(', '));
  }
}

export interface ConversationFilters {
  status?: string;
  assigneeType?: string;
  inboxId?: number;
  teamId?: number;
  labels?: string[];
  q?: string;
  page?: number;
}

export interface NewConversation {
  status?: ConversationStatus;
  assigneeId?: number | null;
  teamId?: number | null;
  customAttributes?: Record<string, unknown>;
  additionalAttributes?: Record<string, unknown>;
  snoozedUntil?: number | null;
}

export interface ContactFields {
  name?: string;
  email?: string | null;
  phone_number?: string | null;
  identifier?: string | null;
  custom_attributes?: Record<string, unknown>;
  additional_attributes?: Record<string, unknown>;
}

/** Mon–Fri 9:00–17:00, the weekend closed: what a new inbox starts with. */
function defaultWorkingHours(): SandboxWorkingHour[] {
  return [0, 1, 2, 3, 4, 5, 6].map((day) =>
    day === 0 || day === 6
      ? { day_of_week: day, closed_all_day: true, open_hour: null, open_minutes: null, close_hour: null, close_minutes: null, open_all_day: false }
      : { day_of_week: day, closed_all_day: false, open_hour: 9, open_minutes: 0, close_hour: 17, close_minutes: 0, open_all_day: false },
  );
}

/** Rails accepts IANA names (and its own aliases); the sandbox takes what Intl knows. */
function validTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const EMAIL = /^[^@\s]+@[^@\s]+$/;
const E164 = /\+[1-9]\d{1,14}$/;

export class NimchatSandboxState {
  readonly users: SandboxUser[];
  readonly teams: SandboxTeam[];
  readonly inboxes: SandboxInbox[];
  readonly agentBots = new Map<number, SandboxAgentBot>();
  readonly contacts = new Map<number, SandboxContact>();
  readonly contactInboxes = new Map<number, SandboxContactInbox>();
  readonly conversations = new Map<number, SandboxConversation>();
  /** Bot handoffs Nimchat recorded (pending → open by the bot token). */
  readonly handoffs: Array<{ conversationId: number; at: number }> = [];
  readonly files = new Map<string, SandboxAttachment>();
  private nextId = { bot: 1, contact: 1, contactInbox: 1, conversation: 1, message: 1, attachment: 1 };
  private lastUpdate = 0;

  constructor(
    private readonly emit: (event: SandboxEvent) => void,
    private readonly now: () => number,
    private readonly baseUrl: () => string,
  ) {
    const t = Math.floor(now() / 1000);
    this.users = [
      { id: 1, name: 'Alex Admin', email: 'admin@sandbox.test', role: 'administrator', accessToken: 'sandbox-admin-token', availability: 'online', created_at: t },
      { id: 2, name: 'Sam Agent', email: 'sam@sandbox.test', role: 'agent', accessToken: 'sandbox-agent-token', availability: 'online', created_at: t },
    ];
    this.teams = [{ id: 1, name: 'Support', description: 'Sandbox support team', allow_auto_assign: true, memberIds: [2], created_at: t, updated_at: t }];
    this.inboxes = [
      {
        id: 1,
        channelId: 1,
        name: 'Sandbox Support',
        identifier: 'sandbox-inbox',
        agentBotId: null,
        memberIds: [2],
        greeting_enabled: false,
        greeting_message: null,
        working_hours_enabled: false,
        out_of_office_message: null,
        timezone: 'UTC',
        working_hours: defaultWorkingHours(),
        enable_auto_assignment: true,
        csat_survey_enabled: false,
        created_at: t,
      },
    ];
  }

  private nowSeconds(): number {
    return this.now() / 1000;
  }

  /** A strictly increasing `updated_at` (unix seconds with a fraction), like the real column. */
  private touch(conv: SandboxConversation): void {
    const t = Math.max(this.nowSeconds(), this.lastUpdate + 0.001);
    this.lastUpdate = t;
    conv.updated_at = Number(t.toFixed(3));
  }

  conversation(id: number): SandboxConversation {
    const conv = this.conversations.get(id);
    if (!conv) throw new SandboxHttpError(404, 'Resource could not be found');
    return conv;
  }

  inbox(id: number): SandboxInbox {
    const inbox = this.inboxes.find((i) => i.id === id);
    if (!inbox) throw new SandboxHttpError(404, 'Resource could not be found');
    return inbox;
  }

  inboxByIdentifier(identifier: string): SandboxInbox {
    const inbox = this.inboxes.find((i) => i.identifier === identifier);
    if (!inbox) throw new SandboxHttpError(404, 'Resource could not be found');
    return inbox;
  }

  team(id: number): SandboxTeam {
    const team = this.teams.find((t) => t.id === id);
    if (!team) throw new SandboxHttpError(404, 'Resource could not be found');
    return team;
  }

  contact(id: number): SandboxContact {
    const contact = this.contacts.get(id);
    if (!contact) throw new SandboxHttpError(404, 'Resource could not be found');
    return contact;
  }

  contactInbox(id: number): SandboxContactInbox {
    const ci = this.contactInboxes.get(id);
    if (!ci) throw new SandboxHttpError(404, 'Resource could not be found');
    return ci;
  }

  contactInboxesOf(contactId: number): SandboxContactInbox[] {
    return [...this.contactInboxes.values()].filter((ci) => ci.contactId === contactId);
  }

  botOfInbox(inboxId: number): SandboxAgentBot | undefined {
    const inbox = this.inboxes.find((i) => i.id === inboxId);
    return inbox?.agentBotId ? this.agentBots.get(inbox.agentBotId) : undefined;
  }

  // ---- inboxes and agents

  /** `PATCH /inboxes/{id}`: settings and, when given, the business hours (a day not listed keeps its hours). */
  updateInbox(
    inbox: SandboxInbox,
    changes: {
      name?: string;
      working_hours_enabled?: boolean;
      out_of_office_message?: string | null;
      timezone?: string;
      enable_auto_assignment?: boolean;
      csat_survey_enabled?: boolean;
      working_hours?: Array<Partial<SandboxWorkingHour> & { day_of_week: number }>;
    },
  ): void {
    if (changes.timezone !== undefined && !validTimeZone(changes.timezone)) throw new SandboxRecordInvalid([{ attribute: 'timezone', message: 'Timezone is not included in the list' }]);
    const { working_hours: hours, ...settings } = changes;
    Object.assign(inbox, Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)));
    for (const h of hours ?? []) {
      const closed = h.closed_all_day === true;
      const allDay = h.open_all_day === true;
      if (closed && allDay) throw new SandboxRecordInvalid([{ attribute: 'base', message: 'open_all_day and closed_all_day cannot be true at the same time' }]);
      const day: SandboxWorkingHour = allDay
        ? { day_of_week: h.day_of_week, closed_all_day: false, open_all_day: true, open_hour: 0, open_minutes: 0, close_hour: 23, close_minutes: 59 }
        : {
            day_of_week: h.day_of_week,
            closed_all_day: closed,
            open_all_day: false,
            open_hour: h.open_hour ?? null,
            open_minutes: h.open_minutes ?? null,
            close_hour: h.close_hour ?? null,
            close_minutes: h.close_minutes ?? null,
          };
      if (!closed && !allDay) {
        if (day.open_hour === null || day.open_minutes === null || day.close_hour === null || day.close_minutes === null) {
          throw new SandboxRecordInvalid([{ attribute: 'open_hour', message: "Open hour can't be blank" }]);
        }
        if (day.open_hour * 60 + day.open_minutes >= day.close_hour * 60 + day.close_minutes) {
          throw new SandboxRecordInvalid([{ attribute: 'close_hour', message: 'Close hour Closing time cannot be before opening time' }]);
        }
      }
      inbox.working_hours = inbox.working_hours.map((w) => (w.day_of_week === day.day_of_week ? day : w));
    }
  }

  createTeam(body: { name: string; description?: string; allow_auto_assign?: boolean }): SandboxTeam {
    // Team names are unique in the account, whatever their case.
    const name = body.name;
    if (this.teams.some((t) => t.name.toLowerCase() === name.toLowerCase())) throw new SandboxRecordInvalid([{ attribute: 'name', message: 'Name has already been taken' }]);
    const t = Math.floor(this.nowSeconds());
    const team: SandboxTeam = { id: Math.max(0, ...this.teams.map((x) => x.id)) + 1, name, description: body.description ?? '', allow_auto_assign: body.allow_auto_assign ?? true, memberIds: [], created_at: t, updated_at: t };
    this.teams.push(team);
    return team;
  }

  user(id: number): SandboxUser {
    const user = this.users.find((u) => u.id === id);
    if (!user) throw new SandboxHttpError(404, 'Resource could not be found');
    return user;
  }

  /** What an agent sets in the dashboard (or presence sets for them): online, busy or offline. */
  setAvailability(user: SandboxUser, status: SandboxUser['availability']): void {
    user.availability = status;
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

  // ---- contacts

  /** The problems a contact with these fields would have (format, and uniqueness in the account). */
  private contactProblems(fields: ContactFields, except?: number): Array<{ attribute: string; message: string }> {
    const problems: Array<{ attribute: string; message: string }> = [];
    const others = [...this.contacts.values()].filter((c) => c.id !== except);
    if (fields.email) {
      if (!EMAIL.test(fields.email)) problems.push({ attribute: 'email', message: 'Email Invalid email' });
      else if (others.some((c) => c.email === fields.email)) problems.push({ attribute: 'email', message: 'Email has already been taken' });
    }
    if (fields.phone_number) {
      if (!E164.test(fields.phone_number)) problems.push({ attribute: 'phone_number', message: 'Phone number should be in e164 format' });
      else if (others.some((c) => c.phone_number === fields.phone_number)) problems.push({ attribute: 'phone_number', message: 'Phone number has already been taken' });
    }
    if (fields.identifier && others.some((c) => c.identifier === fields.identifier)) {
      problems.push({ attribute: 'identifier', message: 'Identifier has already been taken' });
    }
    return problems;
  }

  /** Throws 422 (and creates nothing) when the fields are invalid. */
  checkContact(fields: ContactFields): void {
    const problems = this.contactProblems(fields);
    if (problems.length > 0) throw new SandboxRecordInvalid(problems);
  }

  /** A new contact (validated), in `inbox` when one is given (with a fresh `source_id` unless one is given). */
  createContact(inbox: SandboxInbox | null, body: ContactFields, sourceId?: string): SandboxContact {
    const fields = { ...body, email: body.email ? body.email.toLowerCase() : (body.email ?? null) };
    this.checkContact(fields);
    if (inbox && sourceId !== undefined) this.checkSourceId(inbox, sourceId);
    const id = this.nextId.contact++;
    const contact: SandboxContact = {
      id,
      name: typeof fields.name === 'string' ? fields.name : '',
      email: fields.email ?? null,
      phone_number: fields.phone_number ?? null,
      identifier: fields.identifier ?? null,
      custom_attributes: fields.custom_attributes ?? {},
      additional_attributes: fields.additional_attributes ?? {},
      blocked: false,
      created_at: Math.floor(this.nowSeconds()),
      last_activity_at: null,
    };
    this.contacts.set(id, contact);
    if (inbox) this.addContactInbox(contact, inbox, sourceId);
    return contact;
  }

  /**
   * The public client API's contact: an existing contact of the account with the same email,
   * identifier or phone number gets a new presence in the inbox; otherwise a new contact (named when no name is given).
   */
  createPublicContact(inbox: SandboxInbox, body: ContactFields): SandboxContactInbox {
    const email = body.email ? body.email.toLowerCase() : null;
    const existing = [...this.contacts.values()].find(
      (c) => (email && c.email === email) || (body.identifier && c.identifier === body.identifier) || (body.phone_number && c.phone_number === body.phone_number),
    );
    if (existing) return this.addContactInbox(existing, inbox);
    const contact = this.createContact(inbox, { ...body, name: body.name || `visitor-${this.nextId.contact}` });
    return this.contactInboxesOf(contact.id)[0]!;
  }

  private checkSourceId(inbox: SandboxInbox, sourceId: string, contactId?: number): void {
    const taken = [...this.contactInboxes.values()].find((ci) => ci.inboxId === inbox.id && ci.sourceId === sourceId);
    if (taken && taken.contactId !== contactId) throw new SandboxHttpError(422, 'source_id should be unique');
  }

  /** The contact's presence in the inbox with that source_id: found, or created. */
  addContactInbox(contact: SandboxContact, inbox: SandboxInbox, sourceId?: string): SandboxContactInbox {
    if (sourceId !== undefined) {
      this.checkSourceId(inbox, sourceId, contact.id);
      const same = this.contactInboxesOf(contact.id).find((ci) => ci.inboxId === inbox.id && ci.sourceId === sourceId);
      if (same) return same;
    }
    const ci: SandboxContactInbox = {
      id: this.nextId.contactInbox++,
      contactId: contact.id,
      inboxId: inbox.id,
      sourceId: sourceId ?? randomUUID(),
      pubsubToken: randomBytes(12).toString('hex'),
    };
    this.contactInboxes.set(ci.id, ci);
    return ci;
  }

  /** The contact inbox with that source_id (in `inboxId` when given). */
  contactInboxBySource(sourceId: string, inboxId?: number): SandboxContactInbox {
    for (const ci of this.contactInboxes.values()) if (ci.sourceId === sourceId && (inboxId === undefined || ci.inboxId === inboxId)) return ci;
    throw new SandboxHttpError(404, 'Resource could not be found');
  }

  updateContact(contact: SandboxContact, fields: ContactFields): void {
    const next = { ...fields, ...(fields.email ? { email: fields.email.toLowerCase() } : {}) };
    const problems = this.contactProblems({ ...contact, ...next }, contact.id);
    if (problems.length > 0) throw new SandboxRecordInvalid(problems);
    Object.assign(contact, next);
  }

  /** Contacts with an email, a phone number or an identifier: the ones the contact list shows. */
  resolvedContacts(): SandboxContact[] {
    return [...this.contacts.values()].filter((c) => Boolean(c.email || c.phone_number || c.identifier));
  }

  /** name, email, phone number (case-insensitive) or identifier containing `q`. */
  searchContacts(q: string): SandboxContact[] {
    const needle = q.trim().toLowerCase();
    return [...this.contacts.values()].filter(
      (c) =>
        c.name.toLowerCase().includes(needle) ||
        (c.email ?? '').toLowerCase().includes(needle) ||
        (c.phone_number ?? '').toLowerCase().includes(needle) ||
        (c.identifier ?? '').includes(q.trim()),
    );
  }

  // ---- conversations

  /** A new conversation of the contact inbox (or of the contact's first inbox). */
  createConversation(target: SandboxContact | SandboxContactInbox, o: NewConversation = {}): SandboxConversation {
    const ci = 'sourceId' in target ? target : this.contactInboxesOf(target.id)[0];
    if (!ci) throw new SandboxHttpError(404, 'Resource could not be found');
    if (o.assigneeId !== undefined && o.assigneeId !== null && !this.users.some((u) => u.id === o.assigneeId)) throw new SandboxHttpError(404, 'Resource could not be found');
    if (o.teamId !== undefined && o.teamId !== null) this.team(o.teamId);
    const now = this.nowSeconds();
    const conv: SandboxConversation = {
      id: this.nextId.conversation++,
      uuid: randomUUID(),
      accountId: ACCOUNT.id,
      inboxId: ci.inboxId,
      contactId: ci.contactId,
      contactInboxId: ci.id,
      // A new conversation in an inbox with an active bot starts pending, whatever was asked: the bot's queue.
      status: this.botOfInbox(ci.inboxId) ? 'pending' : (o.status ?? 'open'),
      priority: null,
      assigneeId: o.assigneeId ?? null,
      teamId: o.teamId ?? null,
      labels: [],
      custom_attributes: o.customAttributes ?? {},
      additional_attributes: o.additionalAttributes ?? {},
      snoozed_until: o.snoozedUntil ?? null,
      created_at: Math.floor(now),
      updated_at: now,
      last_activity_at: Math.floor(now),
      first_reply_created_at: null,
      waiting_since: Math.floor(now),
      messages: [],
      recentApiMessages: [],
    };
    this.touch(conv);
    this.conversations.set(conv.id, conv);
    return conv;
  }

  /**
   * The conversation list: filtered by inbox, team, labels, status (default `open`, `all` for any;
   * a search `q` ignores it), counted per assignee kind, then filtered by `assigneeType`, newest
   * activity first, one page.
   */
  findConversations(user: SandboxUser, f: ConversationFilters): { conversations: SandboxConversation[]; counts: { mine_count: number; assigned_count: number; unassigned_count: number; all_count: number } } {
    const visible = user.role === 'administrator' ? this.inboxes.map((i) => i.id) : this.inboxes.filter((i) => i.memberIds.includes(user.id)).map((i) => i.id);
    const inboxIds = f.inboxId !== undefined ? visible.filter((id) => id === f.inboxId) : visible;
    if (f.teamId !== undefined) this.team(f.teamId);
    let list = [...this.conversations.values()].filter((c) => inboxIds.includes(c.inboxId));
    if (f.q === undefined && f.status !== 'all') list = list.filter((c) => c.status === (f.status ?? 'open'));
    if (f.teamId !== undefined) list = list.filter((c) => c.teamId === f.teamId);
    if (f.labels && f.labels.length > 0) list = list.filter((c) => c.labels.some((l) => f.labels!.includes(l)));
    if (f.q !== undefined) {
      const needle = f.q.toLowerCase();
      list = list.filter((c) => c.messages.some((m) => (m.message_type === 'incoming' || m.message_type === 'outgoing') && (m.content ?? '').toLowerCase().includes(needle)));
    }
    const mine = list.filter((c) => c.assigneeId === user.id).length;
    const unassigned = list.filter((c) => c.assigneeId === null).length;
    const counts = { mine_count: mine, assigned_count: list.length - unassigned, unassigned_count: unassigned, all_count: list.length };
    if (f.assigneeType === 'me') list = list.filter((c) => c.assigneeId === user.id);
    else if (f.assigneeType === 'unassigned') list = list.filter((c) => c.assigneeId === null);
    else if (f.assigneeType === 'assigned') list = list.filter((c) => c.assigneeId !== null);
    list.sort((a, b) => b.last_activity_at - a.last_activity_at || b.id - a.id);
    const page = f.page !== undefined && f.page > 0 ? f.page : 1;
    return { conversations: list.slice((page - 1) * CONVERSATIONS_PER_PAGE, page * CONVERSATIONS_PER_PAGE), counts };
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
    const now = this.nowSeconds();
    const message: SandboxMessage = {
      id: this.nextId.message++,
      conversationId: conv.id,
      content: input.content,
      content_type: input.content_type ?? 'text',
      content_attributes: input.content_attributes ?? {},
      message_type: input.message_type,
      private: input.private === true,
      created_at: Math.floor(now),
      updated_at: Number(now.toFixed(3)),
      sender: input.sender,
      attachments: (input.files ?? []).map((f) => this.storeFile(f)),
    };
    conv.messages.push(message);
    if (input.message_type === 'incoming') this.reopenOnIncoming(conv);
    this.noteReply(conv, message);
    if (message.message_type !== 'activity') {
      conv.last_activity_at = message.created_at;
      if (message.sender.kind === 'contact') this.contacts.get(message.sender.id)!.last_activity_at = message.created_at;
    }
    this.touch(conv);
    if (message.message_type !== 'activity') this.emit({ kind: 'message', event: 'message_created', message });
    return message;
  }

  /**
   * The first public reply of a human agent sets `first_reply_created_at`; a human's public reply
   * ends the wait (`waiting_since` null), the contact's next message starts it again.
   */
  private noteReply(conv: SandboxConversation, m: SandboxMessage): void {
    const human = m.message_type === 'outgoing' && !m.private && m.sender.kind === 'user';
    if (human) {
      if (conv.first_reply_created_at === null) conv.first_reply_created_at = m.updated_at;
      conv.waiting_since = null;
    } else if (m.message_type === 'incoming' && conv.waiting_since === null) {
      conv.waiting_since = m.created_at;
    }
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
    message.updated_at = Number(this.nowSeconds().toFixed(3));
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
    if (status === 'resolved') this.sendCsatSurvey(conv);
  }

  /** Nimchat's own survey on resolve, when the inbox has it on: once, unless the customer wrote since the last one. */
  private sendCsatSurvey(conv: SandboxConversation): void {
    if (!this.inboxes.find((i) => i.id === conv.inboxId)?.csat_survey_enabled) return;
    const last = (pred: (m: SandboxMessage) => boolean) => conv.messages.filter(pred).at(-1)?.id ?? 0;
    if (last((m) => m.content_type === 'input_csat') > last((m) => m.message_type === 'incoming')) return;
    this.addMessage(conv, { content: 'Please rate the conversation', message_type: 'template', content_type: 'input_csat', sender: { kind: 'system' } });
  }

  /** toggle_status: pending → open by the bot token is recorded as a bot handoff. */
  toggleStatus(conv: SandboxConversation, status: unknown, byBot: boolean, snoozedUntil?: number): ConversationStatus {
    let next: ConversationStatus;
    if (status === undefined || status === null || status === '') next = conv.status === 'open' ? 'resolved' : 'open';
    else if ((CONVERSATION_STATUSES as readonly unknown[]).includes(status)) next = status as ConversationStatus;
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

  /**
   * `assignments`: an agent (an id the account does not know unassigns, as on the real server) or,
   * without `assignee_id`, a team. Assigning a human to a pending conversation of a bot inbox opens
   * it (4.15+). Answers the agent, the team, or null.
   */
  assign(conv: SandboxConversation, target: { assigneeId: number | null } | { teamId: number | null }): { user: SandboxUser } | { team: SandboxTeam } | null {
    if ('assigneeId' in target) {
      const user = target.assigneeId === null ? undefined : this.users.find((u) => u.id === target.assigneeId);
      this.updateAttributes(conv, { assigneeId: user?.id ?? null });
      if (user && conv.status === 'pending' && this.botOfInbox(conv.inboxId)) this.setStatus(conv, 'open');
      return user ? { user } : null;
    }
    const team = target.teamId === null ? undefined : this.teams.find((t) => t.id === target.teamId);
    this.updateAttributes(conv, { teamId: team?.id ?? null });
    return team ? { team } : null;
  }
}

