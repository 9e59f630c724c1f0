/** POST /api/woztell over loopback: signature, validation, dedupe, statuses and echoes, timestamps. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { startWoztellHarness, type WoztellHarness } from '../../helpers/woztell-harness';
import { woztellSignature } from '../../helpers/signing';

function inbound(memberId: string, channel: string, overrides: Record<string, unknown> = {}) {
  return {
    from: '85260903521',
    to: '85268227287',
    timestamp: '1599536864',
    type: 'TEXT',
    data: { text: 'Hello' },
    member: memberId,
    channel,
    app: 'app-1',
    messageId: `wamid.${Math.random().toString(16).slice(2)}`,
    eventType: 'INBOUND',
    ...overrides,
  };
}

/** Posts a body; `signature` builds the header from the raw bytes (null: no header). */
async function post(url: string, body: unknown, signature: null | ((raw: string) => string), _secret: string) {
  const raw = JSON.stringify(body);
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (signature) headers['X-Woztell-Signature'] = signature(raw);
  return axios.post(url, raw, { headers, validateStatus: () => true, transformRequest: [(d: unknown) => d] });
}

describe('WOZTELL webhook intake', () => {
  let h: WoztellHarness;
  afterEach(async () => {
    await h?.close();
  });

  it('accepts a valid base64 signature (and hex or sha256= forms); refuses a wrong or missing one with 401 and no turn', async () => {
    h = await startWoztellHarness();
    const m = h.sandbox.createMember('Ada');
    const secret = h.sandbox.channelSecret;
    const ok = await post(h.webhookUrl, inbound(m.memberId, h.sandbox.channelId), (raw) => woztellSignature(secret, raw), secret);
    expect(ok.status).toBe(200);
    const hex = await post(
      h.webhookUrl,
      inbound(m.memberId, h.sandbox.channelId),
      (raw) => `sha256=${woztellSignature(secret, raw, 'hex')}`,
      secret,
    );
    expect(hex.status).toBe(200);
    await h.settle();
    const turns = h.bot.seen.length;
    expect(h.bot.seen.filter((a) => a.type === 'message')).toHaveLength(2);

    const wrong = await post(h.webhookUrl, inbound(m.memberId, h.sandbox.channelId), (raw) => woztellSignature('another-secret', raw), secret);
    expect(wrong.status).toBe(401);
    expect(wrong.data.error.code).toBe('woztell_signature_invalid');
    const missing = await post(h.webhookUrl, inbound(m.memberId, h.sandbox.channelId), null, secret);
    expect(missing.status).toBe(401);
    expect(missing.data.error.code).toBe('woztell_signature_missing');
    // signed over other bytes than those sent
    const tampered = await post(h.webhookUrl, inbound(m.memberId, h.sandbox.channelId), () => woztellSignature(secret, '{}'), secret);
    expect(tampered.status).toBe(401);
    await h.settle();
    expect(h.bot.seen.length).toBe(turns);
    expect(h.logLines.join('\n')).not.toContain(secret);
  });

  it('answers 400 with the problem for invalid JSON or a body that is not a WOZTELL webhook', async () => {
    h = await startWoztellHarness();
    const secret = h.sandbox.channelSecret;
    const bad = await axios.post(h.webhookUrl, '{nope', {
      headers: { 'Content-Type': 'application/json', 'X-Woztell-Signature': woztellSignature(secret, '{nope') },
      validateStatus: () => true,
      transformRequest: [(d: unknown) => d],
    });
    expect(bad.status).toBe(400);
    expect(bad.data.error.code).toBe('invalid_json');
    const shape = await post(h.webhookUrl, { type: 'TEXT', data: { text: 'x' } }, (raw) => woztellSignature(secret, raw), secret);
    expect(shape.status).toBe(400);
    expect(shape.data.error.code).toBe('payload_invalid');
    expect(shape.data.error.message).toMatch(/member/);
  });

  it('refuses at intake (400, no turn) a channel or member holding ":" and a body nested thousands deep', async () => {
    h = await startWoztellHarness({ env: { STORAGE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'woz-deep-')), 'bot.sqlite')}` } });
    const m = h.sandbox.createMember('Ada');
    const secret = h.sandbox.channelSecret;
    const sign = (raw: string) => woztellSignature(secret, raw);
    for (const body of [inbound(`${m.memberId}:x`, h.sandbox.channelId), inbound(m.memberId, `${h.sandbox.channelId}:y`), inbound(m.memberId, 'a b')]) {
      const r = await post(h.webhookUrl, body, sign, secret);
      expect(r.status).toBe(400);
      expect(r.data.error.code).toBe('payload_invalid');
    }
    // Written as text: a value this deep would overflow this process's stack when stringified.
    const deep = '{"k":'.repeat(5000) + '1' + '}'.repeat(5000);
    for (const body of [inbound(m.memberId, h.sandbox.channelId, { data: { text: 'hi', payload: 'DEEP' } }), inbound(m.memberId, h.sandbox.channelId, { memberExtraData: 'DEEP' })]) {
      const raw = JSON.stringify(body).replace('"DEEP"', deep);
      const r = await axios.post(h.webhookUrl, raw, { headers: { 'Content-Type': 'application/json', 'X-Woztell-Signature': sign(raw) }, validateStatus: () => true, transformRequest: [(d: unknown) => d] });
      expect(r.status).toBe(400);
      expect(r.data.error.code).toBe('payload_too_deep');
    }
    await h.settle();
    expect(h.bot.seen).toHaveLength(0);
    expect(h.logLines.join('\n')).not.toMatch(/"level":"error"/);
  });

  it('a redelivered messageId runs one turn', async () => {
    h = await startWoztellHarness();
    const m = h.sandbox.createMember('Ada');
    const body = inbound(m.memberId, h.sandbox.channelId, { messageId: 'wamid.same' });
    const secret = h.sandbox.channelSecret;
    const answers = await Promise.all([1, 2, 3].map(() => post(h.webhookUrl, body, (raw) => woztellSignature(secret, raw), secret)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.filter((a) => a.data.duplicate === true)).toHaveLength(2);
    await h.settle();
    expect(h.bot.seen.filter((a) => a.type === 'message')).toHaveLength(1);
    expect(h.received(m.memberId)).toHaveLength(1);
  });

  it('delivery statuses and echoes of the bot’s own sends run no turn', async () => {
    h = await startWoztellHarness();
    const m = h.sandbox.createMember('Ada');
    h.sandbox.customerSays(m.memberId, { text: 'hello' });
    await h.settle();
    const events = h.sandbox.deliveryLog.map((d) => d.event);
    expect(events).toEqual(['INBOUND', 'OUTBOUND_BOT', 'SENT', 'DELIVERED']);
    expect(h.sandbox.deliveryLog.every((d) => d.outcome === 'delivered')).toBe(true);
    expect(h.bot.seen.map((a) => a.type)).toEqual(['conversationUpdate', 'message']);
    // A READ status with a numeric ms timestamp, and an API (MANUAL, no agent) echo: nothing either.
    const secret = h.sandbox.channelSecret;
    const read = { type: 'READ', eventType: 'INBOUND', messageId: 'wamid.r', data: { messageId: 'wamid.r' }, timestamp: 1701914905000, member: m.memberId, channel: h.sandbox.channelId, app: 'a' };
    const manual = { type: 'MANUAL', member: m.memberId, channel: h.sandbox.channelId, app: 'a', meta: { source: { integrationId: 'api' } }, messageEvent: { type: 'TEXT', data: { text: 'broadcast' }, messageId: 'wamid.b', timestamp: 1701914905000 } };
    for (const body of [read, manual]) {
      const res = await post(h.webhookUrl, body, (raw) => woztellSignature(secret, raw), secret);
      expect(res.status).toBe(200);
      expect(res.data.ignored).toBeTruthy();
    }
    await h.settle();
    expect(h.bot.seen).toHaveLength(2);
  });

  it('normalises timestamps: a string of seconds and a number of milliseconds give the same instant', async () => {
    h = await startWoztellHarness();
    const m = h.sandbox.createMember('Ada');
    const secret = h.sandbox.channelSecret;
    await post(h.webhookUrl, inbound(m.memberId, h.sandbox.channelId, { timestamp: '1701914905' }), (raw) => woztellSignature(secret, raw), secret);
    await h.settle();
    await post(h.webhookUrl, inbound(m.memberId, h.sandbox.channelId, { timestamp: 1701914905000 }), (raw) => woztellSignature(secret, raw), secret);
    await h.settle();
    const stamps = h.bot.seen.filter((a) => a.type === 'message').map((a) => new Date(a.timestamp as Date).toISOString());
    expect(stamps).toEqual(['2023-12-07T02:08:25.000Z', '2023-12-07T02:08:25.000Z']);
  });

  it('media and location reach the bot as attachments (contentUrl) and a GeoCoordinates entity', async () => {
    h = await startWoztellHarness();
    const m = h.sandbox.createMember('Ada');
    const secret = h.sandbox.channelSecret;
    const image = inbound(m.memberId, h.sandbox.channelId, { type: 'IMAGE', data: { attachments: [{ type: 'IMAGE', url: 'https://cdn.example/a.jpg' }], caption: 'my receipt' } });
    const location = inbound(m.memberId, h.sandbox.channelId, { type: 'LOCATION', data: { lat: 22.28, long: 114.16, name: 'Central' } });
    await post(h.webhookUrl, image, (raw) => woztellSignature(secret, raw), secret);
    await h.settle();
    await post(h.webhookUrl, location, (raw) => woztellSignature(secret, raw), secret);
    await h.settle();
    const [img, loc] = h.bot.seen.filter((a) => a.type === 'message');
    expect(img!.attachments).toEqual([{ contentType: 'image/*', contentUrl: 'https://cdn.example/a.jpg', name: undefined }]);
    expect(img!.text).toBe('my receipt');
    expect(loc!.entities).toEqual([{ type: 'GeoCoordinates', latitude: 22.28, longitude: 114.16, name: 'Central' }]);
  });
});
