/**
 * The database goes away while traffic flows (every connection cut, new ones refused, as in a restart
 * of the server), then comes back: webhooks meanwhile get the status Nimchat redelivers on (never a
 * 2xx for an event that was not stored), /readyz says not ready, and the endpoint recovers by itself:
 * what the sandbox redelivers and what was accepted before are answered once.
 */
import axios from 'axios';
import { afterAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../helpers/harness';
import { messageCreated, postSigned } from '../../helpers/payloads';
import { createTestDatabase, dropTestDatabases } from '../../helpers/postgres';
import { startCuttableProxy } from '../../helpers/replica-cluster';

const MENU = 'How can I help you today?';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const harnesses: Harness[] = [];
afterAll(async () => {
  for (const h of harnesses.splice(0)) await h.close().catch(() => undefined);
  await dropTestDatabases();
});

describe('PostgreSQL outage under traffic', () => {
  it('refuses with the redelivery status while the database is away, and recovers by itself', async () => {
    const url = new URL(await createTestDatabase());
    const proxy = await startCuttableProxy({ host: url.hostname, port: Number(url.port) });
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    // Nimchat tries a delivery three times, 3 s apart, then opens the conversation to humans: here 1 s apart, the outage shorter.
    const h = await startHarness({ sandbox: { deliveryRetryDelayMs: 1000 }, env: { STORAGE_URL: url.toString(), PG_CONNECT_TIMEOUT_MS: '500', PG_STATEMENT_TIMEOUT_MS: '2000', REPLICA_LEASE_MS: '1000' } });
    harnesses.push(h);
    const c = await h.customer('Ada');
    await c.say('before');
    // On PostgreSQL the conversation's lease holder runs the turn (not the local queue settle() watches).
    await expect.poll(async () => (await c.received()).length, { timeout: 10_000, interval: 100 }).toBe(1);
    await h.settle();
    expect(await c.received()).toEqual([MENU]);

    proxy.cut();
    const during = [];
    for (let i = 0; i < 5; i++) during.push(await postSigned(h.botUrl, h.secret, messageCreated({ id: 5000 + i, content: `during ${i}` }), { delivery: `outage-${i}` }));
    expect(during.map((r) => r.status)).toEqual([500, 500, 500, 500, 500]);
    expect(during.every((r) => r.data.error.code === 'storage_unavailable')).toBe(true);
    expect((await axios.get(`${h.app.url}/readyz`, { validateStatus: () => true })).status).toBe(503);
    // A customer writes during the outage: Nimchat (the sandbox) gets a 500 and delivers again later.
    await c.say('while it was down');
    await sleep(300);

    proxy.restore();
    // Recovered by itself: readiness, new webhooks, and the redelivered message answered once.
    await expect.poll(async () => (await axios.get(`${h.app.url}/readyz`, { validateStatus: () => true })).status, { timeout: 10_000, interval: 200 }).toBe(200);
    await c.say('after');
    await expect.poll(async () => (await c.received()).length, { timeout: 15_000, interval: 200 }).toBe(3);
    await h.settle();
    expect(await c.received()).toEqual([MENU, MENU, MENU]);
    expect(h.logLines.join('\n')).not.toContain(url.password);
    await proxy.close();
  }, 60_000);
});
