// The load generator: signed Nimchat webhooks (or Bot Framework activities for CloudAdapter), a
// tracker that pairs every webhook with its reply at the fake platform, and the closed and open loops.
import http from 'node:http';
import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import process from 'node:process';

const RUN = `${process.pid}-${Date.now().toString(36)}`;
let messageSeq = 5000;
let deliverySeq = 0;

/** `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`, written here on purpose (not the project's). */
export function signNimchat(secret, timestamp, raw) {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(raw).digest('hex')}`;
}

/** A Nimchat `message_created` webhook of a contact writing in conversation `conv` of `account` (shape of Chatwoot's agent-bot payload). */
export function nimchatMessageCreated(conv, messageId, text, account = 1) {
  const nowS = Date.now() / 1000;
  const contact = { id: 10_000 + conv, name: `customer-${conv}`, email: `customer-${conv}@example.com`, type: 'contact' };
  return {
    event: 'message_created',
    id: messageId,
    content: text,
    content_type: 'text',
    content_attributes: {},
    message_type: 'incoming',
    private: false,
    created_at: new Date().toISOString(),
    source_id: null,
    additional_attributes: {},
    sender: {
      account: { id: account, name: `Account ${account}` },
      additional_attributes: {},
      avatar: '',
      custom_attributes: {},
      email: contact.email,
      id: contact.id,
      identifier: null,
      name: contact.name,
      phone_number: null,
      thumbnail: '',
      blocked: false,
    },
    inbox: { id: 1, name: 'Acme Support' },
    account: { id: account, name: `Account ${account}` },
    conversation: {
      id: conv,
      inbox_id: 1,
      status: 'pending',
      channel: 'Channel::WebWidget',
      can_reply: true,
      contact_inbox: { id: conv, contact_id: contact.id, inbox_id: 1, source_id: `src-${conv}`, hmac_verified: false, pubsub_token: `pubsub-${conv}` },
      messages: [{ id: messageId, message_type: 0, created_at: Math.floor(nowS), sender_type: 'Contact' }],
      labels: [],
      custom_attributes: {},
      additional_attributes: { browser_language: 'en' },
      meta: { sender: contact, assignee: null, assignee_type: null, team: null, hmac_verified: false },
      priority: null,
      snoozed_until: null,
      unread_count: 1,
      waiting_since: Math.floor(nowS),
      agent_last_seen_at: 0,
      contact_last_seen_at: 0,
      last_activity_at: Math.floor(nowS),
      timestamp: Math.floor(nowS),
      created_at: 1781690560,
      updated_at: nowS,
      first_reply_created_at: null,
    },
  };
}

/** The same customer message as a Bot Framework activity whose replies go to `serviceUrl`. */
export function connectorActivity(conv, messageId, text, serviceUrl) {
  return {
    type: 'message',
    id: `m${messageId}`,
    timestamp: new Date().toISOString(),
    channelId: 'webchat',
    serviceUrl,
    from: { id: `customer-${conv}`, name: `customer-${conv}`, role: 'user' },
    conversation: { id: `conv-${conv}` },
    recipient: { id: 'bench-bot', name: 'Bot', role: 'bot' },
    text,
    textFormat: 'plain',
    locale: 'en-US',
  };
}

const TEXT = 'Hi, where is my order?';

/**
 * Pairs webhooks with replies: per conversation, replies are matched to the webhooks in the order
 * they were sent (each webhook yields exactly one reply; both servers kinds keep a conversation's order).
 */
export class Tracker {
  constructor() {
    this.waiting = new Map();
    this.unmatched = 0;
    this.badReplies = 0;
    this.expected = 0; // webhooks acknowledged (or not yet answered) that must get exactly one reply
    this.replies = 0;
  }

  expect(key, record) {
    this.expected++;
    let queue = this.waiting.get(key);
    if (!queue) this.waiting.set(key, (queue = []));
    queue.push(record);
  }

  forget(key, record) {
    const queue = this.waiting.get(key);
    const at = queue ? queue.indexOf(record) : -1;
    if (at >= 0) {
      queue.splice(at, 1);
      this.expected--;
    }
  }

  onReply(key, valid) {
    this.replies++;
    this.lastReplyAt = performance.now();
    if (!valid) this.badReplies++;
    const queue = this.waiting.get(key);
    const record = queue?.shift();
    if (!record) {
      this.unmatched++;
      return;
    }
    if (queue.length === 0) this.waiting.delete(key);
    record.replyAt = performance.now();
    record.check();
  }

  /**
   * The counters since the last take, and a clean slate for the next server: `waiting` is how many
   * webhooks never got their reply (dropped here, so a later server's replies cannot match them);
   * `unmatched` counts replies beyond one per webhook (a duplicate shows up there, or as a webhook
   * answered twice while another one waits: `replies` > `expected` − `waiting`).
   */
  takeCounters() {
    let waiting = 0;
    for (const queue of this.waiting.values()) waiting += queue.length;
    const c = { unmatched: this.unmatched, badReplies: this.badReplies, expected: this.expected, replies: this.replies, waiting };
    this.waiting.clear();
    this.unmatched = 0;
    this.badReplies = 0;
    this.expected = 0;
    this.replies = 0;
    return c;
  }
}

/** One POST over a keep-alive agent; resolves with the status once the response body was read (0 on a socket error). */
function post(agent, url, body, headers) {
  return new Promise((resolve) => {
    const req = http.request({ agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } });
    req.on('response', (res) => {
      res.on('data', () => {});
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** The tracker's key of a Nimchat conversation: the account too, so a reply under another tenant's account never matches. */
export const nimchatKey = (account, conv) => `${account}:${conv}`;

/**
 * What sends one webhook to a server: `kind` is `nimchat` (signed message_created) or `connector`
 * (a Bot Framework activity). `send(agent, conv, startedAt?)` gives the record at once and `done`, which
 * resolves once both the 2xx and the reply arrived (or the webhook was refused, or `timeoutMs` passed: `lost`).
 * `tenants` (Nimchat only): `[{ id, account, secret }]`; conversation c is tenants[c mod N]'s, posted to
 * its route `/t/<id>/api/nimchat` of the server's origin, signed with its secret, naming its account.
 */
export function createTarget({ kind, url, secret, platformUrl, tracker, tenants, timeoutMs = 30_000 }) {
  const endpoint = new URL(url);
  const routes = tenants?.map((t) => ({ ...t, endpoint: new URL(`/t/${t.id}/api/nimchat`, endpoint.origin) }));
  return {
    send(agent, conv, startedAt) {
      const messageId = ++messageSeq;
      let body;
      let headers;
      let key;
      let to = endpoint;
      if (kind === 'nimchat') {
        const tenant = routes?.[conv % routes.length];
        const account = tenant?.account ?? 1;
        if (tenant) to = tenant.endpoint;
        body = JSON.stringify(nimchatMessageCreated(conv, messageId, TEXT, account));
        const timestamp = String(Math.floor(Date.now() / 1000));
        headers = {
          'Content-Type': 'application/json',
          'User-Agent': 'Chatwoot',
          'X-Chatwoot-Delivery': `bench-${RUN}-${++deliverySeq}`,
          'X-Chatwoot-Timestamp': timestamp,
          'X-Chatwoot-Signature': signNimchat(tenant?.secret ?? secret, timestamp, body),
        };
        key = nimchatKey(account, conv);
      } else {
        body = JSON.stringify(connectorActivity(conv, messageId, TEXT, platformUrl));
        headers = { 'Content-Type': 'application/json' };
        key = `conv-${conv}`;
      }
      const record = { sentAt: startedAt ?? performance.now(), ackAt: undefined, replyAt: undefined, status: undefined, lost: false };
      const done = new Promise((resolve) => {
        const timer = setTimeout(() => {
          record.lost = true;
          resolve(record);
        }, timeoutMs);
        record.check = () => {
          if (record.ackAt !== undefined && record.replyAt !== undefined) {
            clearTimeout(timer);
            resolve(record);
          }
        };
        tracker.expect(key, record);
        post(agent, to, body, headers).then((status) => {
          record.status = status;
          record.ackAt = performance.now();
          if (status < 200 || status >= 300) {
            // Refused: no reply will come.
            tracker.forget(key, record);
            clearTimeout(timer);
            resolve(record);
            return;
          }
          record.check();
        });
      });
      return { record, done };
    },
  };
}

/** `total` webhooks over `conversations` conversations (ids from `firstConv`), `inFlight` at a time. */
export async function closedLoop(target, { total, conversations, inFlight, firstConv, onProgress }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });
  const records = [];
  let next = 0;
  const started = performance.now();
  async function worker() {
    while (next < total) {
      const i = next++;
      const { done } = target.send(agent, firstConv + (i % conversations));
      const record = await done;
      records.push(record);
      if (onProgress && records.length % 10_000 === 0) onProgress(records.length);
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return { records, elapsedMs };
}

/**
 * `rate` webhooks/s for `durationS` seconds on a fixed schedule, never waiting for answers; latencies
 * count from the scheduled send time. Then up to `stragglerMs` for the last replies.
 */
export async function openLoop(target, { rate, durationS, conversations, firstConv, stragglerMs }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
  const total = Math.round(rate * durationS);
  const interval = 1000 / rate;
  const records = [];
  const pending = [];
  let maxLagMs = 0;
  const t0 = performance.now() + 20;
  let i = 0;
  while (i < total) {
    const now = performance.now();
    while (i < total && t0 + i * interval <= now) {
      const scheduled = t0 + i * interval;
      maxLagMs = Math.max(maxLagMs, now - scheduled);
      const { record, done } = target.send(agent, firstConv + (i % conversations), scheduled);
      records.push(record);
      pending.push(done);
      i++;
    }
    if (i < total) await sleep(Math.max(0, t0 + i * interval - performance.now()));
  }
  const deadline = t0 + (total - 1) * interval + stragglerMs;
  let settled = false;
  const all = Promise.all(pending).then(() => (settled = true));
  while (!settled && performance.now() < deadline) await sleep(20);
  const finishedAt = performance.now();
  return { total, records, maxLagMs, deadline, all, agent, endedMs: finishedAt - t0 };
}
