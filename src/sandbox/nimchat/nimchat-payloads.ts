/** Serialises sandbox objects the way Nimchat's webhooks and API answers show them. */
import { ACCOUNT, MESSAGE_TYPE_NUMBER, type SandboxContact, type SandboxConversation, type SandboxMessage } from './nimchat-model';
import type { NimchatSandboxState } from './nimchat-state';

export function contactPayload(c: SandboxContact) {
  return {
    account: ACCOUNT,
    additional_attributes: {},
    avatar: '',
    custom_attributes: c.custom_attributes,
    email: c.email,
    id: c.id,
    identifier: c.identifier,
    name: c.name,
    phone_number: c.phone_number,
    thumbnail: '',
    blocked: false,
  };
}

export function senderPayload(state: NimchatSandboxState, m: SandboxMessage): Record<string, unknown> | null {
  switch (m.sender.kind) {
    case 'contact': {
      const c = state.contacts.get(m.sender.id);
      return c ? contactPayload(c) : null;
    }
    case 'user': {
      const userId = m.sender.id;
      const u = state.users.find((x) => x.id === userId);
      return u ? { id: u.id, name: u.name, available_name: u.name, avatar_url: '', type: 'user', availability_status: 'online', thumbnail: '' } : null;
    }
    case 'agent_bot': {
      const b = state.agentBots.get(m.sender.id);
      return b ? { id: b.id, name: b.name, avatar_url: '', type: 'agent_bot' } : null;
    }
    default:
      return null;
  }
}

function attachmentsPayload(m: SandboxMessage) {
  return m.attachments.map((a) => ({
    id: a.id,
    message_id: m.id,
    file_type: a.file_type,
    account_id: ACCOUNT.id,
    extension: a.extension,
    data_url: a.data_url,
    thumb_url: a.thumb_url,
    file_size: a.file_size,
  }));
}

/** A message as nested in a conversation, or as listed by the API (integer message_type). */
export function listedMessagePayload(state: NimchatSandboxState, m: SandboxMessage) {
  const sender = senderPayload(state, m);
  return {
    id: m.id,
    content: m.content,
    inbox_id: state.conversation(m.conversationId).inboxId,
    conversation_id: m.conversationId,
    message_type: MESSAGE_TYPE_NUMBER[m.message_type],
    content_type: m.content_type,
    content_attributes: m.content_attributes,
    created_at: m.created_at,
    private: m.private,
    source_id: null,
    sender_type: m.sender.kind === 'contact' ? 'Contact' : m.sender.kind === 'user' ? 'User' : m.sender.kind === 'agent_bot' ? 'AgentBot' : null,
    sender: sender ? { ...sender, type: m.sender.kind === 'contact' ? 'contact' : m.sender.kind } : null,
    ...(m.attachments.length > 0 ? { attachments: attachmentsPayload(m) } : {}),
  };
}

export function conversationPayload(state: NimchatSandboxState, conv: SandboxConversation) {
  const contact = state.contacts.get(conv.contactId)!;
  const assignee = conv.assigneeId === null ? null : state.users.find((u) => u.id === conv.assigneeId);
  const team = conv.teamId === null ? null : state.teams.find((t) => t.id === conv.teamId);
  const chat = conv.messages.filter((m) => m.message_type !== 'activity');
  const last = chat[chat.length - 1];
  return {
    additional_attributes: {},
    can_reply: true,
    channel: 'Channel::Api',
    contact_inbox: { id: contact.id, contact_id: contact.id, inbox_id: conv.inboxId, source_id: contact.sourceId, hmac_verified: false, pubsub_token: contact.pubsubToken },
    id: conv.id,
    inbox_id: conv.inboxId,
    messages: last ? [listedMessagePayload(state, last)] : [],
    labels: conv.labels,
    meta: {
      sender: { id: contact.id, name: contact.name, email: contact.email, phone_number: contact.phone_number, type: 'contact' },
      assignee: assignee ? { id: assignee.id, name: assignee.name, available_name: assignee.name, type: 'user' } : null,
      assignee_type: assignee ? 'User' : null,
      team: team ? { id: team.id, name: team.name } : null,
      hmac_verified: false,
    },
    status: conv.status,
    custom_attributes: conv.custom_attributes,
    snoozed_until: conv.snoozed_until,
    unread_count: 0,
    first_reply_created_at: null,
    priority: conv.priority,
    waiting_since: conv.created_at,
    agent_last_seen_at: 0,
    contact_last_seen_at: 0,
    last_activity_at: Math.floor(conv.updated_at),
    timestamp: Math.floor(conv.updated_at),
    created_at: conv.created_at,
    updated_at: conv.updated_at,
  };
}

/** `message_created` / `message_updated`: the message at the top level (string message_type). */
export function messageEventPayload(state: NimchatSandboxState, event: string, m: SandboxMessage) {
  const conv = state.conversation(m.conversationId);
  const inbox = state.inboxes.find((i) => i.id === conv.inboxId)!;
  return {
    event,
    id: m.id,
    content: m.content,
    content_type: m.content_type,
    content_attributes: m.content_attributes,
    message_type: m.message_type,
    private: m.private,
    created_at: new Date(m.created_at * 1000).toISOString(),
    source_id: null,
    additional_attributes: {},
    sender: senderPayload(state, m),
    inbox: { id: inbox.id, name: inbox.name },
    account: ACCOUNT,
    conversation: conversationPayload(state, conv),
    ...(m.attachments.length > 0 ? { attachments: attachmentsPayload(m) } : {}),
  };
}

export function conversationEventPayload(
  state: NimchatSandboxState,
  event: string,
  conv: SandboxConversation,
  changed: Record<string, { previous_value: unknown; current_value: unknown }> | null,
) {
  return {
    event,
    ...conversationPayload(state, conv),
    account: ACCOUNT,
    ...(event === 'conversation_updated' || event === 'conversation_status_changed'
      ? { changed_attributes: changed ? Object.entries(changed).map(([k, v]) => ({ [k]: v })) : null }
      : {}),
  };
}
