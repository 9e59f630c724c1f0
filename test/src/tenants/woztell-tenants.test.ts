/**
 * Two WOZTELL tenants on one endpoint, each a channel of its own (its own channel id, secret and token,
 * on an emulation of its own): each member is answered on its own channel, a handoff moves the thread
 * in that channel's inbox only, and one tenant's signature on the other's route is refused.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import axios from 'axios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../../src/app';
import { loadConfig } from '../../../src/load-config';
import { createLogger } from '../../../src/log';
import { WoztellSandbox } from '../../../src/sandbox/woztell/woztell-sandbox';
import { woztellSignature } from '../../helpers/signing';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('two WOZTELL tenants on one endpoint', () => {
  const alpha = new WoztellSandbox({ deliveryRetryDelayMs: 10, deliveryTimeoutMs: 2000, channel: { id: 'aaaaaaaaaaaaaaaaaaaaaaa1', secret: 'alpha-channel-secret-0001', accessToken: 'alpha-access-token-0001' } });
  const beta = new WoztellSandbox({ deliveryRetryDelayMs: 10, deliveryTimeoutMs: 2000, channel: { id: 'bbbbbbbbbbbbbbbbbbbbbbb2', secret: 'beta-channel-secret-0002', accessToken: 'beta-access-token-0002' } });
  let app: App;
  const logLines: string[] = [];

  beforeAll(async () => {
    await alpha.start();
    await beta.start();
    const variables = (s: WoztellSandbox, name: string) => ({
      WOZTELL_ACCESS_TOKEN: `\${${name}_TOKEN}`,
      WOZTELL_CHANNEL_SECRET: `\${${name}_SECRET}`,
      WOZTELL_BOT_API_URL: s.botApiUrl,
      WOZTELL_OPEN_API_URL: s.openApiUrl,
      WOZTELL_INBOX_API_URL: s.inboxApiUrl,
      WOZTELL_BOT_FOLDER: 'bot',
      WOZTELL_APP_ID: s.appId,
      WOZTELL_APP_INTEGRATION_ID: s.appIntegrationId,
      WOZTELL_INBOX_SIGNATURE: s.inboxSignature,
    });
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tenants-')), 'tenants.json');
    writeFileSync(file, JSON.stringify({ tenants: { alpha: { variables: variables(alpha, 'ALPHA') }, beta: { variables: variables(beta, 'BETA') } } }));
    const config = loadConfig({
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      STORAGE_URL: 'memory:',
      TENANTS_FILE: file,
      ALPHA_TOKEN: alpha.accessToken,
      ALPHA_SECRET: alpha.channelSecret,
      BETA_TOKEN: beta.accessToken,
      BETA_SECRET: beta.channelSecret,
    });
    app = new App(config, { logger: createLogger({ level: 'debug', secrets: config.secrets, write: (line) => logLines.push(line) }), drainTimeoutMs: 2000 });
    await app.start();
    alpha.subscribe(`${app.url}/t/alpha/api/woztell`);
    beta.subscribe(`${app.url}/t/beta/api/woztell`);
  });

  afterAll(async () => {
    await app?.stop();
    await alpha.close();
    await beta.close();
  });

  it("each member is answered on its own channel; a handoff moves the thread in that channel's inbox only", async () => {
    const a = alpha.createMember('Ada');
    const b = beta.createMember('Bea');
    expect(a.memberId).toBe(b.memberId); // the members' ids collide on the two channels
    alpha.customerSays(a.memberId, { text: 'hello alpha' });
    beta.customerSays(b.memberId, { text: 'hello beta' });
    await until('both answered', () => alpha.received(a.memberId).length > 0 && beta.received(b.memberId).length > 0);

    alpha.customerSays(a.memberId, { text: 'I want to talk to a human' });
    await until("alpha's handoff", () => alpha.state.thread({ memberId: a.memberId })?.folder !== 'main' || (alpha.state.thread({ memberId: a.memberId })?.notes.length ?? 0) > 0);
    await sleep(300);
    expect(beta.state.thread({ memberId: b.memberId })?.notes ?? []).toEqual([]);
    expect(beta.calls.filter((c) => c.api === 'inbox' && c.method === 'POST').map((c) => c.path)).not.toContain(expect.stringMatching(/note/i));

    const alphaTranscript = (await app.transcripts.list('woztell', `alpha/${alpha.channelId}:${a.memberId}`)).map((e) => e.text);
    const betaTranscript = (await app.transcripts.list('woztell', `beta/${beta.channelId}:${b.memberId}`)).map((e) => e.text);
    expect(alphaTranscript).toEqual(expect.arrayContaining(['hello alpha', 'I want to talk to a human']));
    expect(betaTranscript).toContain('hello beta');
    expect(betaTranscript).not.toContain('hello alpha');
    expect((await app.runtime.ownership.get('woztell', `alpha/${alpha.channelId}:${a.memberId}`))?.owner).toBe('human');
    expect((await app.runtime.ownership.get('woztell', `beta/${beta.channelId}:${b.memberId}`))?.owner ?? 'bot').toBe('bot');
  });

  it("refuses a webhook signed with one tenant's channel secret on the other's route", async () => {
    const raw = JSON.stringify({ from: '85260903521', to: '85268227287', timestamp: '1599536864', type: 'TEXT', data: { text: 'forged' }, member: 'm1', channel: beta.channelId, app: 'app-1', messageId: 'wamid.forged', eventType: 'INBOUND' });
    const post = (tenant: string, secret: string) =>
      axios.post(`${app.url}/t/${tenant}/api/woztell`, raw, { headers: { 'Content-Type': 'application/json', 'X-Woztell-Signature': woztellSignature(secret, raw) }, validateStatus: () => true, transformRequest: [(d: unknown) => d] });
    expect((await post('beta', alpha.channelSecret)).status).toBe(401);
    expect((await post('beta', beta.channelSecret)).status).toBe(200);
    expect(logLines.filter((l) => [alpha.channelSecret, beta.channelSecret, alpha.accessToken, beta.accessToken].some((s) => l.includes(s)))).toEqual([]);
  });
});
