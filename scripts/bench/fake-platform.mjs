// The fake platform: an independent node:http emulation of the two reply APIs the benchmarked servers
// call, in the load generator's process. Nimchat: POST /api/v1/accounts/:account/conversations/:id/messages.
// Bot Framework connector: POST /v3/conversations/:id/activities[/:activityId]. Each answers 200 {id}
// at once and reports the reply (conversation id, whether it is the expected menu) to `onReply`.
// Anything else is answered 200 {} and counted, so the report can say what else a server called; an
// OTLP trace export (POST /v1/traces, from a traced server) gets an empty protobuf 200.
import http from 'node:http';
import { nimchatKey, nimchatMessageCreated, signNimchat } from './load.mjs';

const NIMCHAT_REPLY = /^\/api\/v1\/accounts\/(\d+)\/conversations\/(\d+)\/messages$/;
const CONNECTOR_REPLY = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/;
export const MENU_TEXT = 'How can I help you today?';
const MENU_VALUES = 'human,ticket';

function nimchatMenu(body) {
  const items = body?.content_attributes?.items;
  return body?.content === MENU_TEXT && body.content_type === 'input_select' && Array.isArray(items) && items.map((i) => i.value).join(',') === MENU_VALUES;
}

function connectorMenu(body) {
  const actions = body?.suggestedActions?.actions;
  return body?.type === 'message' && body.text === MENU_TEXT && Array.isArray(actions) && actions.map((a) => a.value).join(',') === MENU_VALUES;
}

/** Path with its ids replaced, for counting unexpected calls. */
function shape(method, url) {
  return `${method} ${url.split('?')[0].replace(/\/\d+(?=\/|$)/g, '/:n')}`;
}

/** Posts Nimchat's echo of a reply (the bot's own `message_created`) to the server, signed, not waited for. */
function sendEcho(target, account, conv, id, body) {
  const echo = nimchatMessageCreated(Number(conv), id, body?.content ?? '', Number(account));
  Object.assign(echo, {
    message_type: 'outgoing',
    content_type: body?.content_type ?? 'text',
    content_attributes: body?.content_attributes ?? {},
    private: body?.private === true,
    sender: { id: 1, name: 'Bench bot', avatar_url: '', type: 'agent_bot' },
  });
  const raw = JSON.stringify(echo);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const url = new URL(target.url);
  const req = http.request({
    agent: echoAgent,
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(raw), 'X-Chatwoot-Timestamp': timestamp, 'X-Chatwoot-Signature': signNimchat(target.secret, timestamp, raw) },
  });
  req.on('response', (res) => res.resume());
  req.on('error', () => undefined);
  req.end(raw);
}

const echoAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });

export async function startFakePlatform(onReply) {
  let nextId = 1;
  let echoTarget;
  let tokens;
  const otherCalls = new Map();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url.split('?')[0];
      let match;
      if (req.method === 'POST' && (match = NIMCHAT_REPLY.exec(path)) && tokens && tokens.get(match[1]) !== req.headers.api_access_token) {
        const key = `${shape(req.method, req.url)} (401: not account ${match[1]}'s bot token)`;
        otherCalls.set(key, (otherCalls.get(key) ?? 0) + 1);
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end('{"error":"Invalid Access Token"}');
      } else if (req.method === 'POST' && match) {
        const body = parse(chunks);
        const id = nextId++;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ id, content: body?.content ?? null, message_type: 1, content_type: body?.content_type ?? 'text', conversation_id: Number(match[2]), created_at: Math.floor(Date.now() / 1000) }));
        onReply(nimchatKey(match[1], match[2]), nimchatMenu(body));
        const echoTo = echoTarget?.(match[1]);
        if (echoTo) sendEcho(echoTo, match[1], match[2], id, body);
      } else if (req.method === 'POST' && (match = CONNECTOR_REPLY.exec(path))) {
        const body = parse(chunks);
        const id = nextId++;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ id: String(id) }));
        onReply(decodeURIComponent(match[1]), connectorMenu(body));
      } else if (req.method === 'POST' && path === '/v1/traces') {
        // An OTLP/HTTP collector's answer (a traced server exports here): counted like any other call.
        const key = `${shape(req.method, req.url)} (${Buffer.concat(chunks).length > 0 ? 'spans' : 'empty'})`;
        otherCalls.set(key, (otherCalls.get(key) ?? 0) + 1);
        res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Length': 0 });
        res.end();
      } else {
        const key = shape(req.method, req.url);
        otherCalls.set(key, (otherCalls.get(key) ?? 0) + 1);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{}');
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** Where Nimchat's echoes of an account's replies go: `(account) => {url, secret}`, or undefined: none sent. */
    echoTo(target) {
      echoTarget = target;
    },
    /** The bot token each account's replies must carry (a Map of account id to token), or undefined: not checked. */
    expectTokens(byAccount) {
      tokens = byAccount;
    },
    /** Unexpected calls since the last take, by method and path shape. */
    takeOtherCalls() {
      const calls = Object.fromEntries(otherCalls);
      otherCalls.clear();
      return calls;
    },
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function parse(chunks) {
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}
