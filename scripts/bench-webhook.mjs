// Benchmark: signed Nimchat webhooks into the real server on loopback, the example bot answering
// through the sandbox Nimchat. Prints ack latency (median, p99), end-to-end throughput and memory.
// Usage: npm run bench:webhook [-- conversations messagesPerConversation concurrency]
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import axios from 'axios';
import http from 'node:http';

const require = createRequire(import.meta.url);
const { App } = require('../dist/src/app.js');
const { loadConfig } = require('../dist/src/config.js');
const { createLogger } = require('../dist/src/log.js');
const { NimchatSandbox } = require('../dist/src/sandbox/nimchat/nimchat-sandbox.js');
const { messageEventPayload } = require('../dist/src/sandbox/nimchat/nimchat-payloads.js');
const { signNimchatPayload } = require('../dist/adapters/nimchat/verify.js');

const [conversations = 200, perConversation = 5, concurrency = 16] = process.argv.slice(2).map(Number);

const sandbox = new NimchatSandbox();
await sandbox.start();
const bot = sandbox.state.createBot({ name: 'bench', outgoing_url: '' });
sandbox.state.inboxes[0].agentBotId = bot.id;
const config = loadConfig({
  PORT: '0', HOST: '127.0.0.1', STORAGE_URL: process.env.STORAGE_URL ?? 'memory:',
  NIMCHAT_BASE_URL: sandbox.baseUrl, NIMCHAT_BOT_TOKEN: bot.accessToken, NIMCHAT_WEBHOOK_SECRET: bot.secret,
});
const app = new App(config, { logger: createLogger({ level: 'silent' }) });
await app.start();

// Conversations exist in the sandbox (so replies succeed); webhooks are posted straight to the bot.
const payloads = [];
for (let c = 0; c < conversations; c++) {
  const contact = sandbox.state.createContact(sandbox.state.inboxes[0], { name: `c${c}` });
  const conv = sandbox.state.createConversation(contact);
  for (let m = 0; m < perConversation; m++) {
    const message = sandbox.state.addMessage(conv, { content: `hello ${m}`, message_type: 'incoming', sender: { kind: 'contact', id: contact.id } });
    payloads.push(JSON.stringify(messageEventPayload(sandbox.state, 'message_created', message)));
  }
}
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const client = axios.create({ httpAgent: agent, validateStatus: () => true, transformRequest: [(d) => d] });
const url = `${app.url}/api/nimchat`;
globalThis.gc?.();
const rssBefore = process.memoryUsage().rss;

const latencies = [];
let next = 0;
const started = performance.now();
async function worker() {
  while (next < payloads.length) {
    const body = payloads[next++];
    const ts = String(Math.floor(Date.now() / 1000));
    const t0 = performance.now();
    const res = await client.post(url, body, {
      headers: { 'Content-Type': 'application/json', 'X-Chatwoot-Delivery': `d${next}`, 'X-Chatwoot-Timestamp': ts, 'X-Chatwoot-Signature': signNimchatPayload(bot.secret, ts, body) },
    });
    latencies.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`unexpected ${res.status}`);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const acked = performance.now();
await app.queue.onIdle();
const done = performance.now();
const replies = [...sandbox.state.conversations.values()].reduce((n, c) => n + c.messages.filter((m) => m.sender.kind === 'agent_bot').length, 0);
globalThis.gc?.();
const rssAfter = process.memoryUsage().rss;

latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(2);
console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
console.log(`webhooks: ${payloads.length} (${conversations} conversations × ${perConversation}), client concurrency ${concurrency}`);
console.log(`ack latency: median ${pct(50)} ms, p99 ${pct(99)} ms, max ${latencies[latencies.length - 1].toFixed(2)} ms`);
console.log(`all acknowledged in ${(acked - started).toFixed(0)} ms; all turns done in ${(done - started).toFixed(0)} ms`);
console.log(`end-to-end: ${((payloads.length / (done - started)) * 1000).toFixed(0)} turns/s; bot replies created: ${replies}`);
console.log(`rss: ${(rssBefore / 1048576).toFixed(0)} MiB before, ${(rssAfter / 1048576).toFixed(0)} MiB after`);
await app.stop();
await sandbox.close();
agent.destroy();
