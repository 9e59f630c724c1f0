/** The webhook door of NimchatAdapter over real HTTP: authenticity, validation, dedupe, ordering. */
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startHarness, type Harness } from '../../helpers/harness';
import { conversation, messageCreated, postSigned } from '../../helpers/payloads';
import { createUrlToken } from '../../../adapters/nimchat/verify';

describe('Nimchat webhook intake', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const turns = () => h.bot.seen.filter((a) => a.type === 'message').length;

  it('accepts a valid signature and refuses invalid, missing and stale ones with 401 and no turn', async () => {
    const body = messageCreated();
    const ok = await postSigned(h.botUrl, h.secret, body, { delivery: 'd-ok' });
    expect(ok.status).toBe(200);
    await h.settle();
    expect(turns()).toBe(1);

    const bad = await postSigned(h.botUrl, 'not-the-secret', messageCreated({ id: 201 }), { delivery: 'd-bad' });
    const missing = await postSigned(h.botUrl, undefined, messageCreated({ id: 202 }), { delivery: 'd-missing' });
    const stale = await postSigned(h.botUrl, h.secret, messageCreated({ id: 203 }), { delivery: 'd-stale', timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect([bad.status, missing.status, stale.status]).toEqual([401, 401, 401]);
    expect(bad.data.error.code).toBe('nimchat_signature_invalid');
    expect(missing.data.error.code).toBe('nimchat_signature_missing');
    expect(stale.data.error.code).toBe('nimchat_signature_stale');
    await h.settle();
    expect(turns()).toBe(1);
    expect(h.logLines.join('\n')).not.toContain(h.secret);
  });

  it('runs one turn for a redelivered event (same delivery id) and for a duplicate message id', async () => {
    const body = messageCreated({ id: 300 });
    const responses = await Promise.all([1, 2, 3].map(() => postSigned(h.botUrl, h.secret, body, { delivery: 'same-delivery' })));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    await postSigned(h.botUrl, h.secret, body, { delivery: 'another-delivery' });
    await h.settle();
    expect(turns()).toBe(1);
    const metrics = (await import('axios')).default.get(`${h.app.url}/metrics`);
    expect((await metrics).data).toMatch(/handoff_webhooks_deduplicated_total\{platform="nimchat"\} 3/);
  });

  it('answers 200 before the turn runs, and runs turns of one conversation in arrival order, never overlapping', async () => {
    const trace: string[] = [];
    const original = h.bot.run.bind(h.bot);
    h.bot.run = async (ctx) => {
      if (ctx.activity.type !== 'message') return original(ctx);
      trace.push(`start ${ctx.activity.text}`);
      await new Promise((r) => setTimeout(r, ctx.activity.text === 'first' ? 150 : 1));
      trace.push(`end ${ctx.activity.text}`);
    };
    const first = await postSigned(h.botUrl, h.secret, messageCreated({ id: 401, content: 'first' }), { delivery: 'o1' });
    expect(first.status).toBe(200);
    expect(trace).not.toContain('end first'); // acknowledged while the 150 ms turn is still running
    const second = await postSigned(h.botUrl, h.secret, messageCreated({ id: 402, content: 'second' }), { delivery: 'o2' });
    expect(second.status).toBe(200);
    await h.settle();
    expect(trace).toEqual(['start first', 'end first', 'start second', 'end second']);
  });

  it('runs many conversations concurrently, each in order', async () => {
    let running = 0;
    let maxRunning = 0;
    const perConversation = new Map<string, string[]>();
    const original = h.bot.run.bind(h.bot);
    h.bot.run = async (ctx) => {
      if (ctx.activity.type !== 'message') return original(ctx);
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 10));
      const list = perConversation.get(ctx.activity.conversation.id) ?? [];
      list.push(ctx.activity.text!);
      perConversation.set(ctx.activity.conversation.id, list);
      running--;
    };
    const posts: Array<Promise<unknown>> = [];
    for (let c = 1; c <= 20; c++) {
      for (let m = 1; m <= 3; m++) {
        posts.push(postSigned(h.botUrl, h.secret, messageCreated({ id: c * 100 + m, content: `m${m}` }, conversation(c)), { delivery: `c${c}m${m}` }));
        if (m < 3) await posts[posts.length - 1]; // arrival order within a conversation
      }
    }
    await Promise.all(posts);
    await h.settle();
    expect(perConversation.size).toBe(20);
    for (const list of perConversation.values()) expect(list).toEqual(['m1', 'm2', 'm3']);
    expect(maxRunning).toBeGreaterThan(1);
  });

  it('refuses malformed JSON, schema violations and oversized bodies with the right 4xx and no turn', async () => {
    const malformed = await postSigned(h.botUrl, h.secret, null, { raw: '{"event": "message_created", ', delivery: 'm1' });
    expect(malformed.status).toBe(400);
    expect(malformed.data.error.code).toBe('invalid_json');

    const invalid = await postSigned(h.botUrl, h.secret, messageCreated({ id: 'not-a-number' }), { delivery: 'm2' });
    expect(invalid.status).toBe(400);
    expect(invalid.data.error.code).toBe('payload_invalid');
    expect(invalid.data.error.message).toMatch(/id/);

    const noEvent = await postSigned(h.botUrl, h.secret, { hello: 1 }, { delivery: 'm3' });
    expect(noEvent.status).toBe(400);

    const huge = await postSigned(h.botUrl, h.secret, messageCreated({ content: 'x'.repeat(1_100_000) }), { delivery: 'm4' });
    expect(huge.status).toBe(413);
    expect(huge.data.error.code).toBe('payload_too_large');
    await h.settle();
    expect(turns()).toBe(0);
    // the same delivery, well-formed this time, still gets its turn: a refused request changes nothing
    await postSigned(h.botUrl, h.secret, messageCreated({ id: 77 }), { delivery: 'm2' });
    await h.settle();
    expect(turns()).toBe(1);
  });

  it('refuses a signed body nested thousands deep with 400 (not a 500 redelivered forever), and still answers a normal one', async () => {
    await h.close();
    const dir = mkdtempSync(join(tmpdir(), 'deep-'));
    h = await startHarness({ env: { STORAGE_URL: `sqlite:${join(dir, 'bot.sqlite')}` } });
    // Written as text: building such a value and stringifying it would overflow this process's stack too.
    const deep = (n: number) => '{"k":'.repeat(n) + '"x"' + '}'.repeat(n);
    const withDeep = (body: unknown) => JSON.stringify(body).replace('"DEEP"', deep(5000));
    const bodies = [messageCreated({ content_attributes: 'DEEP' }), messageCreated({ conversation: { ...conversation(10), custom_attributes: 'DEEP' } }), messageCreated({ extra: ['DEEP'] })];
    for (const [i, body] of bodies.entries()) {
      const r = await postSigned(h.botUrl, h.secret, null, { delivery: `deep-${i}`, raw: withDeep({ ...body, id: 900 + i }) });
      expect(r.status).toBe(400);
      expect(r.data.error.code).toBe('payload_too_deep');
    }
    const ok = await postSigned(h.botUrl, h.secret, null, { delivery: 'deep-ok', raw: JSON.stringify(messageCreated({ id: 910, content_attributes: 'DEEP' })).replace('"DEEP"', deep(20)) });
    expect(ok.status).toBe(200);
    await h.settle();
    expect(turns()).toBe(1);
    expect(h.logLines.join('\n')).not.toContain('webhook handler failed');
  });

  it('a client that disconnects mid-body is logged at debug, without a stack, and runs no turn', async () => {
    const { port } = new URL(h.botUrl);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`POST /api/nimchat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"event":"message_`);
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    await vi.waitFor(() => expect(h.logLines.some((l) => l.includes('disconnected before its webhook body was read'))).toBe(true));
    const line = h.logLines.find((l) => l.includes('disconnected before its webhook body was read'))!;
    expect(line).toContain('"level":"debug"');
    expect(line).not.toContain('stack');
    expect(h.logLines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
    await h.settle();
    expect(turns()).toBe(0);
  });

  it("ignores the bot's own echoes, private notes and delivery-status updates (no turn at all)", async () => {
    const c = await h.customer();
    await c.say('hello');
    await h.settle();
    expect(turns()).toBe(1); // the echo of the bot's menu reached the adapter but not the bot
    const echoes = h.sandbox.deliveryLog.filter((d) => d.event === 'message_created');
    expect(echoes.length).toBe(2);
    await h.agentSay(c.conversationId, 'internal: VIP customer', true);
    await postSigned(h.botUrl, h.secret, messageCreated({ event: 'message_updated', id: 118, content_attributes: { external_error: null } }), { delivery: 'status-1' });
    await h.settle();
    expect(turns()).toBe(1);
    expect(h.bot.seen.filter((a) => a.type === 'message').map((a) => a.text)).toEqual(['hello']);
  });

  it('GET /healthz, /readyz and /metrics answer; unknown routes get a JSON error', async () => {
    const axios = (await import('axios')).default;
    expect((await axios.get(`${h.app.url}/healthz`)).data).toEqual({ status: 'ok' });
    expect((await axios.get(`${h.app.url}/readyz`)).data).toEqual({ status: 'ready' });
    const metrics = (await axios.get(`${h.app.url}/metrics`)).data as string;
    expect(metrics).toContain('handoff_queue_depth');
    const missing = await axios.get(`${h.app.url}/api/nope`, { validateStatus: () => true });
    expect(missing.status).toBe(404);
    expect(missing.data.error.code).toBeTruthy();
  });
});

describe('Nimchat URL token (servers that sign nothing)', () => {
  const urlSecret = 'url-token-secret-0123456789';
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('requires a valid token whose claims match the payload account/inbox', async () => {
    h = await startHarness({ env: { NIMCHAT_URL_TOKEN_SECRET: urlSecret, NIMCHAT_WEBHOOK_SECRET: '' }, urlTokenSecret: urlSecret });
    const bot = [...h.sandbox.state.agentBots.values()][0]!;
    expect(bot.outgoing_url).toContain('?token=');
    // the sandbox delivers to the registered URL (with the token): the conversation works
    const c = await h.customer();
    await c.say('hi');
    await h.settle();
    expect(await c.received()).toEqual(['How can I help you today?']);

    const none = await postSigned(h.botUrl, undefined, messageCreated({ id: 900 }));
    expect(none.status).toBe(401);
    const otherAccount = await postSigned(`${h.botUrl}?token=${createUrlToken(urlSecret, { account: 2, inbox: 1 })}`, undefined, messageCreated({ id: 901 }));
    expect(otherAccount.status).toBe(401);
    expect(otherAccount.data.error.code).toBe('nimchat_url_token_mismatch');
    const forged = await postSigned(`${h.botUrl}?token=${createUrlToken('some-other-secret-value-xx', { account: 1, inbox: 1 })}`, undefined, messageCreated({ id: 902 }));
    expect(forged.status).toBe(401);
    const good = await postSigned(`${h.botUrl}?token=${createUrlToken(urlSecret, { account: 1, inbox: 1 })}`, undefined, messageCreated({ id: 903 }));
    expect(good.status).toBe(200);
  });

  it('a token with an inbox claim requires the payload to name that inbox (no fail-open when it is left out)', async () => {
    h = await startHarness({ env: { NIMCHAT_URL_TOKEN_SECRET: urlSecret, NIMCHAT_WEBHOOK_SECRET: '' }, urlTokenSecret: urlSecret });
    const token = createUrlToken(urlSecret, { account: 1, inbox: 2 });
    const { inbox: _inbox, ...withoutInbox } = messageCreated({ id: 910 });
    const { inbox_id: _inboxId, ...conversationWithoutInbox } = withoutInbox.conversation;
    const stripped = await postSigned(`${h.botUrl}?token=${token}`, undefined, { ...withoutInbox, conversation: conversationWithoutInbox });
    expect(stripped.status).toBe(401);
    expect(stripped.data.error.code).toBe('nimchat_url_token_mismatch');
    const otherInbox = await postSigned(`${h.botUrl}?token=${token}`, undefined, messageCreated({ id: 911 }));
    expect(otherInbox.status).toBe(401);
  });

  it('checks the token before reading the body: without one, even a body that is not JSON gets 401', async () => {
    h = await startHarness({ env: { NIMCHAT_URL_TOKEN_SECRET: urlSecret, NIMCHAT_WEBHOOK_SECRET: '' }, urlTokenSecret: urlSecret });
    const res = await postSigned(h.botUrl, undefined, undefined, { raw: '{not json' });
    expect(res.status).toBe(401);
  });
});
