// The physical limit: a bare node:http handler. Raw body, constant-time HMAC-SHA256 check of the
// Nimchat signature, JSON.parse, 200, then one keep-alive POST of the menu to the platform.
import http from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { benchEnv, serveBenchChild } from './child.mjs';

const base = new URL(benchEnv('NIMCHAT_BASE_URL'));
const token = benchEnv('NIMCHAT_BOT_TOKEN');
const secret = benchEnv('NIMCHAT_WEBHOOK_SECRET');
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

const MENU = JSON.stringify({
  content: 'How can I help you today?',
  message_type: 'outgoing',
  content_type: 'input_select',
  content_attributes: { items: [{ title: 'Talk to a human', value: 'human' }, { title: 'Leave a message', value: 'ticket' }] },
});

function signatureValid(req, raw) {
  const timestamp = req.headers['x-chatwoot-timestamp'];
  const signature = req.headers['x-chatwoot-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`);
  mac.update(raw);
  const expected = Buffer.from(`sha256=${mac.digest('hex')}`);
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function reply(accountId, conversationId) {
  const req = http.request({
    agent,
    host: base.hostname,
    port: base.port,
    method: 'POST',
    path: `/api/v1/accounts/${accountId}/conversations/${conversationId}/messages`,
    headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(MENU), api_access_token: token },
  });
  req.on('response', (res) => res.resume());
  req.on('error', (error) => process.stderr.write(`bare: reply failed: ${error.message}\n`));
  req.end(MENU);
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/api/nimchat') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    if (!signatureValid(req, raw)) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"ok":false}');
      return;
    }
    let body;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"ok":false}');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    if (body.event === 'message_created' && body.message_type === 'incoming' && !body.private) reply(body.account.id, body.conversation.id);
  });
});
server.keepAliveTimeout = 60_000;

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  serveBenchChild(`http://127.0.0.1:${port}/api/nimchat`, () => new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
    agent.destroy();
  }));
});
