/**
 * The application API's answers, shaped as Nimchat (Chatwoot) renders them: agents, teams, inboxes,
 * contacts, conversations (`meta.channel`, `meta.assignee` only when there is one), messages.
 */
import { ACCOUNT, MESSAGE_TYPE_NUMBER, type SandboxContact, type SandboxContactInbox, type SandboxConversation, type SandboxInbox, type SandboxMessage, type SandboxTeam, type SandboxUser } from './nimchat-model';
import {
  attachmentsPayload,
  contactPushData,
  isoTime,
  lastChatMessage,
  messagePushData,
  senderPushData,
  unreadCount,
  userPushData,
} from './nimchat-payloads';
import type { NimchatSandboxState } from './nimchat-state';

/** An agent of the account (`/agents`, team members, an assignment's answer, `meta.assignee`). */
export function agentView(u: SandboxUser) {
  return {
    id: u.id,
    account_id: ACCOUNT.id,
    availability_status: u.availability,
    auto_offline: true,
    confirmed: true,
    email: u.email,
    provider: 'email',
    available_name: u.name,
    name: u.name,
    role: u.role,
    thumbnail: '',
  };
}

/** `GET /profile`: the user's own record, with their access token and their accounts. */
export function profileView(u: SandboxUser) {
  return {
    access_token: u.accessToken,
    account_id: ACCOUNT.id,
    available_name: u.name,
    avatar_url: '',
    confirmed: true,
    display_name: null,
    message_signature: null,
    email: u.email,
    id: u.id,
    inviter_id: null,
    name: u.name,
    provider: 'email',
    pubsub_token: `pubsub-user-${u.id}`,
    role: u.role,
    ui_settings: {},
    uid: u.email,
    type: u.role === 'administrator' ? 'SuperAdmin' : 'User',
    accounts: [
      {
        id: ACCOUNT.id,
        name: ACCOUNT.name,
        status: 'active',
        active_at: null,
        role: u.role,
        permissions: [u.role],
        availability: u.availability,
        availability_status: u.availability,
        auto_offline: true,
      },
    ],
  };
}

/** A contact as its model serialises (the public API's contact update, a public conversation's `contact`). */
export function contactRecord(c: SandboxContact) {
  return {
    id: c.id,
    additional_attributes: c.additional_attributes,
    blocked: c.blocked,
    contact_type: 'visitor',
    country_code: null,
    custom_attributes: c.custom_attributes,
    email: c.email,
    identifier: c.identifier,
    last_activity_at: c.last_activity_at === null ? null : isoTime(c.last_activity_at),
    last_name: null,
    location: null,
    middle_name: null,
    name: c.name,
    phone_number: c.phone_number,
    created_at: isoTime(c.created_at),
    updated_at: isoTime(c.created_at),
    account_id: ACCOUNT.id,
    company_id: null,
  };
}

/** A team as `/teams` and `meta.team` show it to `viewer`. */
export function teamView(t: SandboxTeam, viewer: SandboxUser | undefined) {
  return { id: t.id, name: t.name, description: t.description, allow_auto_assign: t.allow_auto_assign, account_id: ACCOUNT.id, is_member: viewer ? t.memberIds.includes(viewer.id) : false };
}

/** A team as a team assignment answers it (the record's columns). */
export function teamRecord(t: SandboxTeam) {
  return { id: t.id, name: t.name, description: t.description, allow_auto_assign: t.allow_auto_assign, account_id: ACCOUNT.id, created_at: isoTime(t.created_at), updated_at: isoTime(t.updated_at) };
}

function weeklySchedule(inbox: SandboxInbox) {
  return inbox.working_hours.map((h) => ({ ...h }));
}

/** An API-channel inbox as `/inboxes` and `/inboxes/{id}` show it; `hmac_token` only to administrators. */
export function inboxView(inbox: SandboxInbox, viewer: SandboxUser | undefined) {
  return {
    id: inbox.id,
    avatar_url: '',
    channel_id: inbox.channelId,
    name: inbox.name,
    channel_type: 'Channel::Api',
    greeting_enabled: inbox.greeting_enabled,
    greeting_message: inbox.greeting_message,
    working_hours_enabled: inbox.working_hours_enabled,
    enable_email_collect: true,
    csat_survey_enabled: inbox.csat_survey_enabled,
    csat_config: {},
    enable_auto_assignment: inbox.enable_auto_assignment,
    auto_assignment_config: {},
    out_of_office_message: inbox.out_of_office_message,
    working_hours: weeklySchedule(inbox),
    timezone: inbox.timezone,
    callback_webhook_url: null,
    allow_messages_after_resolved: true,
    lock_to_single_conversation: false,
    sender_name_type: 'friendly',
    business_name: null,
    widget_color: null,
    website_url: null,
    hmac_mandatory: false,
    welcome_title: null,
    welcome_tagline: null,
    web_widget_script: null,
    website_token: null,
    selected_feature_flags: null,
    reply_time: null,
    messaging_service_sid: null,
    phone_number: null,
    ...(viewer?.role === 'administrator' ? { hmac_token: `hmac-${inbox.identifier}` } : {}),
    webhook_url: null,
    inbox_identifier: inbox.identifier,
    additional_attributes: {},
    provider: null,
  };
}

/** The inbox as a contact's `contact_inboxes[]` shows it. */
export function inboxSlim(inbox: SandboxInbox) {
  return { id: inbox.id, avatar_url: '', channel_id: inbox.channelId, name: inbox.name, channel_type: 'Channel::Api', provider: null };
}

/** The inbox record (its columns), as a contact creation's `contact_inbox.inbox` shows it. */
export function inboxRecord(inbox: SandboxInbox) {
  return {
    id: inbox.id,
    channel_id: inbox.channelId,
    account_id: ACCOUNT.id,
    name: inbox.name,
    created_at: isoTime(inbox.created_at),
    updated_at: isoTime(inbox.created_at),
    channel_type: 'Channel::Api',
    enable_auto_assignment: inbox.enable_auto_assignment,
    greeting_enabled: inbox.greeting_enabled,
    greeting_message: inbox.greeting_message,
    email_address: null,
    working_hours_enabled: inbox.working_hours_enabled,
    out_of_office_message: inbox.out_of_office_message,
    timezone: inbox.timezone,
    enable_email_collect: true,
    csat_survey_enabled: inbox.csat_survey_enabled,
    allow_messages_after_resolved: true,
    auto_assignment_config: {},
    lock_to_single_conversation: false,
    sender_name_type: 'friendly',
    business_name: null,
  };
}

/** `GET /public/api/v1/inboxes/{identifier}`. */
export function publicInboxView(inbox: SandboxInbox) {
  return {
    identifier: inbox.identifier,
    identity_validation_enabled: false,
    name: inbox.name,
    timezone: inbox.timezone,
    working_hours: weeklySchedule(inbox),
    working_hours_enabled: inbox.working_hours_enabled,
    csat_survey_enabled: inbox.csat_survey_enabled,
    greeting_enabled: inbox.greeting_enabled,
  };
}

/** A contact as the contacts API shows it (with `contact_inboxes` unless asked not to). */
export function contactView(state: NimchatSandboxState, c: SandboxContact, withContactInboxes = true) {
  return {
    additional_attributes: c.additional_attributes,
    availability_status: 'offline',
    email: c.email,
    id: c.id,
    name: c.name,
    phone_number: c.phone_number,
    blocked: c.blocked,
    identifier: c.identifier,
    thumbnail: '',
    custom_attributes: c.custom_attributes,
    ...(c.last_activity_at !== null ? { last_activity_at: c.last_activity_at } : {}),
    created_at: c.created_at,
    ...(withContactInboxes
      ? { contact_inboxes: state.contactInboxesOf(c.id).map((ci) => ({ source_id: ci.sourceId, inbox: inboxSlim(state.inbox(ci.inboxId)) })) }
      : {}),
  };
}

/** `POST /contacts`. */
export function contactCreatedView(state: NimchatSandboxState, c: SandboxContact, ci: SandboxContactInbox | undefined) {
  return {
    payload: {
      contact: contactView(state, c, true),
      contact_inbox: { inbox: ci ? inboxRecord(state.inbox(ci.inboxId)) : null, source_id: ci?.sourceId ?? null },
    },
  };
}

/** A conversation as the application API shows it (`show`, list, create, update). */
export function conversationView(state: NimchatSandboxState, conv: SandboxConversation, viewer: SandboxUser | undefined) {
  const contact = state.contact(conv.contactId);
  const assignee = conv.assigneeId === null ? undefined : state.users.find((u) => u.id === conv.assigneeId);
  const team = conv.teamId === null ? undefined : state.teams.find((t) => t.id === conv.teamId);
  const last = conv.messages[conv.messages.length - 1];
  const lastChat = lastChatMessage(conv);
  return {
    meta: {
      sender: contactView(state, contact, false),
      channel: 'Channel::Api',
      ...(assignee ? { assignee: agentView(assignee) } : {}),
      ...(team ? { team: teamView(team, viewer) } : {}),
      hmac_verified: false,
    },
    id: conv.id,
    messages: last ? [messagePushData(state, last)] : [],
    account_id: conv.accountId,
    uuid: conv.uuid,
    additional_attributes: conv.additional_attributes,
    agent_last_seen_at: 0,
    assignee_last_seen_at: 0,
    can_reply: true,
    contact_last_seen_at: 0,
    custom_attributes: conv.custom_attributes,
    inbox_id: conv.inboxId,
    labels: conv.labels,
    muted: false,
    snoozed_until: conv.snoozed_until,
    status: conv.status,
    created_at: conv.created_at,
    updated_at: conv.updated_at,
    timestamp: conv.last_activity_at,
    first_reply_created_at: conv.first_reply_created_at === null ? 0 : Math.floor(conv.first_reply_created_at),
    unread_count: unreadCount(conv),
    last_non_activity_message: lastChat ? messagePushData(state, lastChat) : null,
    last_activity_at: conv.last_activity_at,
    priority: conv.priority,
    waiting_since: conv.waiting_since ?? 0,
    sla_policy_id: null,
  };
}

/** A message as the application API's message calls show it. */
export function messageView(state: NimchatSandboxState, m: SandboxMessage) {
  const conv = state.conversation(m.conversationId);
  const sender = senderPushData(state, m);
  return {
    id: m.id,
    content: m.content,
    inbox_id: conv.inboxId,
    conversation_id: m.conversationId,
    message_type: MESSAGE_TYPE_NUMBER[m.message_type],
    content_type: m.content_type,
    status: 'sent',
    content_attributes: m.content_attributes,
    created_at: m.created_at,
    private: m.private,
    source_id: null,
    ...(sender ? { sender } : {}),
    ...(m.attachments.length > 0 ? { attachments: attachmentsPayload(m) } : {}),
  };
}

/** `GET …/conversations/{id}/messages`: the conversation's labels, contact and assignee, then the messages. */
export function messagesIndexView(state: NimchatSandboxState, conv: SandboxConversation) {
  const assignee = conv.assigneeId === null ? undefined : state.users.find((u) => u.id === conv.assigneeId);
  return {
    meta: {
      labels: conv.labels,
      additional_attributes: conv.additional_attributes,
      contact: contactPushData(state.contact(conv.contactId)),
      ...(assignee ? { assignee: userPushData(assignee) } : {}),
      agent_last_seen_at: null,
      assignee_last_seen_at: null,
    },
    payload: conv.messages.map((m) => messageView(state, m)),
  };
}

/** A message as the public client API shows it to the contact. */
export function publicMessageView(state: NimchatSandboxState, m: SandboxMessage) {
  const sender = senderPushData(state, m);
  return {
    id: m.id,
    content: m.content,
    message_type: MESSAGE_TYPE_NUMBER[m.message_type],
    content_type: m.content_type,
    content_attributes: m.content_attributes,
    created_at: m.created_at,
    conversation_id: m.conversationId,
    ...(m.attachments.length > 0 ? { attachments: attachmentsPayload(m) } : {}),
    ...(sender ? { sender } : {}),
  };
}
