/**
 * Tenants added, changed and removed without a restart: the app watches TENANTS_FILE. An added tenant
 * is served, a removed one answers 404 tenant_unknown, a changed one runs with its new settings without
 * a moment of 404, reloads never overlap, and a tenant with a problem is left as it was while the others
 * change. Secrets may come from files (`${file:…}`), read again at each reload.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import axios from 'axios';
import sinon from 'sinon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../../src/app';
import { loadConfig } from '../../../src/load-config';
import { endpointBanner } from '../../../src/hosting/banner';
import { createLogger } from '../../../src/log';
import { registerAgentBot } from '../../../adapters/nimchat/register';
import { messageCreated, postSigned } from '../../helpers/payloads';
import { installation, until, type Installation } from '../../helpers/nimchat-installations';

describe('tenants added and removed while the endpoint runs', () => {
  let acme: Installation;
  let globex: Installation;
  let app: App;
  let file: string;
  let dir: string;
  const logLines: string[] = [];

  // Acme's secrets in the environment; Globex's in files, as mounted secrets are.
  const acmeEntry = (account = 1) => ({ variables: { NIMCHAT_BASE_URL: acme.sandbox.baseUrl, NIMCHAT_BOT_TOKEN: '${ACME_BOT_TOKEN}', NIMCHAT_WEBHOOK_SECRET: '${ACME_WEBHOOK_SECRET}', NIMCHAT_ACCOUNT_ID: String(account) } });
  const globexEntry = (account = 1) => ({ variables: { NIMCHAT_BASE_URL: globex.sandbox.baseUrl, NIMCHAT_BOT_TOKEN: `\${file:${dir}/globex-token}`, NIMCHAT_WEBHOOK_SECRET: `\${file:${dir}/globex-secret}`, NIMCHAT_ACCOUNT_ID: String(account) } });
  const write = (tenants: unknown) => writeFileSync(file, JSON.stringify({ tenants }));
  const served = () => [...app.tenants.keys()].sort();
  const post = (tenant: string, i: Installation) => postSigned(`${app.url}/t/${tenant}/api/nimchat`, i.secret, messageCreated({ id: Math.floor(Math.random() * 1e9) }));

  beforeAll(async () => {
    [acme, globex] = [await installation(), await installation()];
    dir = mkdtempSync(path.join(tmpdir(), 'tenants-'));
    file = path.join(dir, 'tenants.json');
    writeFileSync(path.join(dir, 'globex-token'), `${globex.token}\n`);
    writeFileSync(path.join(dir, 'globex-secret'), `${globex.secret}\n`);
    write({ acme: acmeEntry() });
    const config = loadConfig({ NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', STORAGE_URL: 'memory:', TENANTS_FILE: file, ACME_BOT_TOKEN: acme.token, ACME_WEBHOOK_SECRET: acme.secret });
    app = new App(config, { logger: createLogger({ level: 'debug', secrets: config.secrets, write: (line) => logLines.push(line) }), tenantsFilePollMs: 50, drainTimeoutMs: 2000 });
    await app.start();
  });

  afterAll(async () => {
    await app?.stop();
    await acme?.sandbox.close();
    await globex?.sandbox.close();
  });

  it('a tenant added to the file is served (its secrets redacted), a removed one answers 404, without a restart', async () => {
    expect(served()).toEqual(['acme']);
    expect((await post('acme', acme)).status).toBe(200);
    expect((await post('globex', globex)).data.error.code).toBe('tenant_unknown');

    write({ acme: acmeEntry(), globex: globexEntry() });
    await until('globex served', () => served().includes('globex'));
    expect((await post('globex', globex)).status).toBe(200);
    expect(logLines.some((l) => l.includes('tenants reloaded') && l.includes('globex'))).toBe(true);
    // Its conversations get turns: a customer of its installation is answered.
    await registerAgentBot(globex.admin, { accountId: 1, inboxId: 1, name: 'Tenant bot', outgoingUrl: `${app.url}/t/globex/api/nimchat` });
    const pub = `${globex.sandbox.baseUrl}/public/api/v1/inboxes/${globex.sandbox.inboxIdentifier}`;
    const contact = (await axios.post(`${pub}/contacts`, { name: 'Grace' })).data;
    const conv = (await axios.post(`${pub}/contacts/${contact.source_id}/conversations`, {})).data;
    await axios.post(`${pub}/contacts/${contact.source_id}/conversations/${conv.id}/messages`, { content: 'hello' });
    await until('the bot answered', () => globex.sandbox.state.conversation(conv.id).messages.some((m) => m.message_type === 'outgoing'));
    expect(await app.transcripts.list('nimchat', `globex/1:${conv.id}`)).not.toEqual([]);
    // A secret that only an added tenant has is redacted from now on.
    app.logger.info('quoting', { detail: globex.secret });
    expect(logLines.at(-1)).not.toContain(globex.secret);

    write({ globex: globexEntry() });
    await until('acme gone', () => !served().includes('acme'));
    const gone = await post('acme', acme);
    expect(gone.status).toBe(404);
    expect(gone.data.error.code).toBe('tenant_unknown');
    expect((await post('globex', globex)).status).toBe(200);
  });

  it('a changed tenant runs with its new settings, and its route never answers 404 meanwhile, though its old start takes a while to stop', async () => {
    // Globex with a user token: its start scans for conversations Nimchat gave away, and the old start's
    // stop waits for the scan it is in (Nimchat's conversation list answering slowly here).
    globex.sandbox.faults.push({ method: 'GET', path: /\/conversations$/, delayMs: 600 });
    write({ globex: { variables: { ...globexEntry().variables, NIMCHAT_API_TOKEN: globex.sandbox.agentToken } } });
    await until('globex with its user token', () => logLines.some((l) => l.includes('tenants reloaded') && l.includes('"changed":["globex"]')));
    // Webhooks all through the change: none may find the route empty.
    let stop = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (!stop) statuses.push((await post('globex', globex)).status);
    })();
    writeFileSync(file, JSON.stringify({ tenants: { globex: { variables: { ...globexEntry(2).variables, NIMCHAT_API_TOKEN: globex.sandbox.agentToken } } } }));
    // Two reloads at once, as two edits a moment apart: they run one after the other.
    const [first, second] = await Promise.all([app.reloadTenants(), app.reloadTenants()]);
    expect([...first.changed, ...second.changed]).toEqual(['globex']);
    await new Promise((r) => setTimeout(r, 100));
    globex.sandbox.faults.length = 0;
    stop = true;
    await traffic;
    expect(statuses).not.toContain(404);
    expect(statuses.at(-1)).toBe(401); // account 1 is no longer Globex's
    expect(served()).toEqual(['globex']);
    write({ globex: globexEntry(1) });
    await until('globex back on account 1', async () => (await post('globex', globex)).status === 200);
  });

  it('a tenant with a problem stays as it was, while the others change; a file that is not JSON changes nothing', async () => {
    // Acme added back; Globex broken (its token file gone): Acme is served, Globex keeps running as it was.
    writeFileSync(file, JSON.stringify({ tenants: { acme: acmeEntry(), globex: { variables: { ...globexEntry().variables, NIMCHAT_BOT_TOKEN: `\${file:${dir}/missing}` } } } }));
    await until('acme served again', () => served().includes('acme'));
    expect(served()).toEqual(['acme', 'globex']);
    expect((await post('globex', globex)).status).toBe(200);
    await until('the problem logged', () => logLines.some((l) => l.includes('those tenants are unchanged') && l.includes('globex')));
    writeFileSync(file, '{ not json');
    await until('the bad file logged', () => logLines.some((l) => l.includes('the tenants served are unchanged')));
    expect(served()).toEqual(['acme', 'globex']);
  });
});

describe('a webhook for a tenant not read here yet', () => {
  let acme: Installation;
  let app: App;
  let file: string;

  beforeAll(async () => {
    acme = await installation();
    file = path.join(mkdtempSync(path.join(tmpdir(), 'tenants-')), 'tenants.json');
    writeFileSync(file, JSON.stringify({ tenants: {} }));
    const config = loadConfig({ NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', STORAGE_URL: 'memory:', TENANTS_FILE: file });
    // The file is polled once a minute: as on a replica that has not polled it since another took the change.
    app = new App(config, { logger: createLogger({ level: 'error' }), tenantsFilePollMs: 60_000, drainTimeoutMs: 2000 });
    await app.start();
  });

  afterAll(async () => {
    await app?.stop();
    await acme?.sandbox.close();
  });

  it('an endpoint of tenants starts with none yet, and says where they go', () => {
    expect(app.tenants.size).toBe(0);
    expect(endpointBanner(app)).toContain(`POST /t/<tenant>/api/<platform> for the tenants added to ${file} (none yet)`);
  });

  it('has the file read before a 404 (the platform would not send it again), once per change of the file', async () => {
    // Each read takes a while (as behind another reload): the webhooks arriving meanwhile must wait for it.
    const read = app.reloadTenants.bind(app);
    const reads = sinon.stub(app, 'reloadTenants').callsFake(async () => {
      await new Promise((r) => setTimeout(r, 200));
      return read();
    });
    const variables = { NIMCHAT_BASE_URL: acme.sandbox.baseUrl, NIMCHAT_BOT_TOKEN: acme.token, NIMCHAT_WEBHOOK_SECRET: acme.secret, NIMCHAT_ACCOUNT_ID: '1' };
    writeFileSync(file, JSON.stringify({ tenants: { acme: { variables } } }));
    // Three at once: each waits for the one read.
    const first = await Promise.all([1001, 1002, 1003].map((id) => postSigned(`${app.url}/t/acme/api/nimchat`, acme.secret, messageCreated({ id }))));
    expect(first.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(reads.callCount).toBe(1);
    // An id nobody serves, again and again: the file has not changed, it is not read again.
    for (let i = 0; i < 5; i++) expect((await postSigned(`${app.url}/t/nobody/api/nimchat`, acme.secret, messageCreated({ id: 2000 + i }))).data.error.code).toBe('tenant_unknown');
    expect(reads.callCount).toBe(1);
    // A known tenant's webhooks never read it.
    expect((await postSigned(`${app.url}/t/acme/api/nimchat`, acme.secret, messageCreated({ id: 1004 }))).status).toBe(200);
    expect(reads.callCount).toBe(1);
    // Once the file changes, an unknown id has it read again.
    writeFileSync(file, JSON.stringify({ tenants: { acme: { title: 'Acme', variables } } }));
    expect((await postSigned(`${app.url}/t/nobody/api/nimchat`, acme.secret, messageCreated({ id: 3000 }))).status).toBe(404);
    expect(reads.callCount).toBe(2);
    reads.restore();
  });
});
