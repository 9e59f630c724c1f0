/** Realistic Nimchat webhook payloads (Chatwoot's shapes) and signing for direct posts. */
import axios from 'axios';
import { nimchatSignature } from './signing';

export function conversation(id: number, status = 'pending', updatedAt = 1781690568.61) {
  return {
    id,
    inbox_id: 1,
    status,
    channel: 'Channel::WebWidget',
    can_reply: true,
    contact_inbox: { id: 12, contact_id: 14, inbox_id: 1, source_id: '405f1d30', hmac_verified: false, pubsub_token: 'x' },
    messages: [{ id: 118, message_type: 0, created_at: 1781690568, sender_type: 'Contact' }],
    labels: [],
    custom_attributes: {},
    additional_attributes: { browser_language: 'en' },
    meta: { sender: { id: 14, name: 'little-haze-776', email: null, type: 'contact' }, assignee: null, assignee_type: null, team: null, hmac_verified: false },
    priority: null,
    snoozed_until: null,
    unread_count: 1,
    waiting_since: 1781690568,
    agent_last_seen_at: 0,
    contact_last_seen_at: 0,
    last_activity_at: 1781690568,
    timestamp: 1781690568,
    created_at: 1781690560,
    updated_at: updatedAt,
    first_reply_created_at: null,
  };
}

export const contactSender = {
  account: { id: 1, name: 'Acme Inc' },
  additional_attributes: {},
  avatar: '',
  custom_attributes: {},
  email: 'ada@example.com',
  id: 14,
  identifier: null,
  name: 'little-haze-776',
  phone_number: null,
  thumbnail: '',
  blocked: false,
};

export function messageCreated(overrides: Record<string, unknown> = {}, conv = conversation(10)) {
  return {
    event: 'message_created',
    id: 118,
    content: 'Hi, where is my order?',
    content_type: 'text',
    content_attributes: {},
    message_type: 'incoming',
    private: false,
    created_at: '2026-06-17T10:02:48.512Z',
    source_id: null,
    additional_attributes: {},
    sender: contactSender,
    inbox: { id: 1, name: 'Acme Support' },
    account: { id: 1, name: 'Acme Inc' },
    conversation: conv,
    ...overrides,
  };
}

export function conversationEvent(event: string, status: string, updatedAt: number, changed: unknown = null) {
  return { event, ...conversation(10, status, updatedAt), account: { id: 1, name: 'Acme Inc' }, changed_attributes: changed };
}

/** Posts a signed webhook straight to the bot endpoint. */
export async function postSigned(url: string, secret: string | undefined, body: unknown, options: { delivery?: string; timestamp?: number; raw?: string; headers?: Record<string, string> } = {}) {
  const raw = options.raw ?? JSON.stringify(body);
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...options.headers };
  if (options.delivery) headers['X-Chatwoot-Delivery'] = options.delivery;
  if (secret) {
    const ts = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    headers['X-Chatwoot-Timestamp'] = ts;
    headers['X-Chatwoot-Signature'] = nimchatSignature(secret, ts, raw);
  }
  return axios.post(url, raw, { headers, validateStatus: () => true, transformRequest: [(d: unknown) => d], maxBodyLength: Infinity });
}
