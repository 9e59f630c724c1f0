/** The Inbenta auth and ticketing clients against the sandbox Inbenta, over loopback; time is stubbed. */
import sinon from 'sinon';
import { MemoryStorage } from 'botbuilder-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InbentaSandbox } from '../../../src/sandbox/inbenta/inbenta-sandbox';
import { InbentaAuth } from '../../../adapters/inbenta/auth';
import { InbentaTicketingClient, MAX_ATTACHMENT_BYTES } from '../../../adapters/inbenta/client';
import { InbentaTicketDesk } from '../../../adapters/inbenta/ticket-desk';
import { TicketLinks } from '../../../adapters/inbenta/ticket-links';
import { readThrottleReset } from '../../../adapters/inbenta/throttle';
import { OwnershipStore } from '../../../src/ownership';
import { PlatformApiError } from '../../../src/errors';
import { createLogger } from '../../../src/log';
import type { TicketRequest } from '../../../dialogs/ticket-desk';

describe('Inbenta clients over loopback', () => {
  let sandbox: InbentaSandbox;
  let now: number;
  let sleep: sinon.SinonStub;
  let logLines: string[];

  beforeEach(async () => {
    now = Date.UTC(2026, 10, 21, 10, 0, 0);
    sandbox = new InbentaSandbox({ now: () => now });
    await sandbox.start();
    logLines = [];
  });
  afterEach(async () => {
    await sandbox.close();
  });

  function make(options: { secret?: string } = {}) {
    sleep = sinon.stub().callsFake(async (ms: number) => {
      now += ms;
    });
    const clock = { now: () => now, sleep, random: sinon.stub().returns(0.5) };
    const logger = createLogger({ level: 'debug', secrets: [sandbox.apiSecret, sandbox.apiKey], write: (l) => logLines.push(l) });
    const auth = new InbentaAuth({ authUrl: sandbox.authUrl, apiKey: sandbox.apiKey, apiSecret: options.secret ?? sandbox.apiSecret, clock, http: { clock, logger } });
    const client = new InbentaTicketingClient(auth, sandbox.apiKey, { clock, logger });
    return { auth, client };
  }

  function ticketRequest(n: number, extra: Partial<TicketRequest> = {}): TicketRequest {
    return {
      escalationId: `esc-${n}`,
      reference: { channelId: 'nimchat', conversation: { id: `nimchat:1:1:${n}` } as never },
      customer: { email: `c${n}@example.com`, name: `Customer ${n}` },
      title: `Issue ${n}`,
      description: `Issue ${n}`,
      transcript: [],
      ...extra,
    };
  }

  it('caches the token across many calls: one /auth, and every call carries the key and the bearer', async () => {
    const { client } = make();
    for (let i = 0; i < 20; i++) await client.findUserByAddress(`x${i}@example.com`);
    expect(sandbox.stats.auth).toBe(1);
    expect(sandbox.stats.refresh).toBe(0);
    expect(sandbox.calls.filter((c) => c.path === '/prod/ticketing/v1/users' && c.status === 200)).toHaveLength(20);
  });

  it('refreshes through /v1/refreshToken when fewer than 180 s remain, keeping the ticketing URL of /auth', async () => {
    const { client, auth } = make();
    await client.findUserByAddress('a@example.com');
    now += (1200 - 170) * 1000; // 170 s left
    await client.findUserByAddress('a@example.com');
    expect(sandbox.stats).toMatchObject({ auth: 1, refresh: 1 });
    expect(await auth.ticketingUrl()).toBe(sandbox.ticketingUrl);
    now += 200 * 1000; // still inside the refreshed token's life: nothing new
    await client.findUserByAddress('a@example.com');
    expect(sandbox.stats).toMatchObject({ auth: 1, refresh: 1 });
  });

  it('starts over with /auth once the token has expired, and when a refresh is refused', async () => {
    const { client } = make();
    await client.findUserByAddress('a@example.com');
    now += 1300 * 1000; // expired in our own books
    await client.findUserByAddress('a@example.com');
    expect(sandbox.stats).toMatchObject({ auth: 2, refresh: 0 });
    now += (1200 - 100) * 1000; // near expiry, but Inbenta already dropped it
    sandbox.expireTokens();
    await client.findUserByAddress('a@example.com');
    expect(sandbox.stats).toMatchObject({ auth: 3, refresh: 1 });
  });

  it('an expired token at the gateway → 403 "explicit deny" → a new token → the call succeeds', async () => {
    const { client } = make();
    await client.findUserByAddress('a@example.com');
    sandbox.expireTokens();
    const id = await client.findOrCreateUser({ name: 'Ada', address: 'ada@example.com' });
    expect(id.created).toBe(true);
    expect(sandbox.stats.auth).toBe(2);
    expect(sandbox.calls.some((c) => c.status === 403 && c.path === '/prod/ticketing/v1/users')).toBe(true);
  });

  it('a 403 that is not "explicit deny" is not retried and carries Inbenta\'s message', async () => {
    const { client } = make();
    sandbox.faults.push({ path: /GET \/prod\/ticketing\/v1\/tickets\/5$/, status: 403, body: { error: { code: 403, message: 'Agent cannot see queue 2' } } });
    const error = await client.getTicket(5).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformApiError);
    expect((error as Error).message).toContain('Agent cannot see queue 2');
    expect(sandbox.stats.auth).toBe(1);
  });

  it('fifty concurrent escalations share one /auth and make fifty tickets', async () => {
    const { client } = make();
    const storage = new MemoryStorage();
    const desk = new InbentaTicketDesk({ client, links: new TicketLinks(storage), ownership: new OwnershipStore(storage), queue: 1, source: 3 });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => desk.createTicket(ticketRequest(i))));
    expect(sandbox.stats.auth).toBe(1);
    expect(sandbox.tickets).toHaveLength(50);
    expect(new Set(results.map((r) => r.reference)).size).toBe(50);
  });

  it('finds a user by address, creates one only when none exists', async () => {
    const { client } = make();
    const first = await client.findOrCreateUser({ name: 'Ada', address: 'ada@example.com' });
    const again = await client.findOrCreateUser({ name: 'Ada L.', address: 'ADA@example.com' });
    expect(first.created).toBe(true);
    expect(again).toEqual({ id: first.id, created: false });
    expect(sandbox.users).toHaveLength(1);
  });

  it('refuses a file over ~7 MB before encoding or uploading it, with a clear error', async () => {
    const { client } = make();
    const error = await client.uploadMedia({ name: 'scan.pdf', data: Buffer.alloc(MAX_ATTACHMENT_BYTES + 1) }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('inbenta_attachment_too_large');
    expect((error as Error).message).toMatch(/scan\.pdf.*7 MB/);
    expect(sandbox.calls.some((c) => c.path.endsWith('/v1/media'))).toBe(false);
    const ok = await client.uploadMedia({ name: 'small.png', data: Buffer.from('png') });
    expect(sandbox.media).toEqual([{ uuid: ok, name: 'small.png', size: 3 }]);
  });

  it('429 waits until x-throttle-reset, then succeeds', async () => {
    const { client } = make();
    sandbox.faults.push({ path: /GET \/prod\/ticketing\/v1\/users/, status: 429, headers: { 'x-throttle-reset': '3' }, body: { error: { code: 429, message: 'Too many requests' } } });
    await client.findUserByAddress('a@example.com');
    expect(sleep.calledWith(3000)).toBe(true);
    expect(readThrottleReset({ 'x-throttle-reset': String(Math.floor(now / 1000) + 7) }, now)).toBe(7000);
  });

  it('an optional field the instance refuses (400) is dropped, the ticket created, and not sent again', async () => {
    await sandbox.close();
    sandbox = new InbentaSandbox({ now: () => now, refuseTicketFields: ['external_id'] });
    await sandbox.start();
    const { client } = make();
    const user = await client.findOrCreateUser({ name: 'Ada', address: 'ada@example.com' });
    const body = { title: 't', message: 'm', creator: user.id, queue: 1, source: 3, external_id: 'esc-1' };
    const created = await client.createTicket(body);
    expect(created.fullUuid).toMatch(/^SANDBOX-\d{8}$/);
    expect(client.sendsExternalId).toBe(false);
    await client.createTicket({ ...body, external_id: 'esc-2' });
    const posts = sandbox.calls.filter((c) => c.method === 'POST' && c.path.endsWith('/v1/tickets'));
    expect(posts.map((c) => [c.status, 'external_id' in c.body])).toEqual([
      [400, true],
      [200, false],
      [200, false],
    ]);
  });

  it('a 400 not caused by an optional field is an error with Inbenta\'s message, tried once', async () => {
    const { client } = make();
    const error = await client.createTicket({ title: 't', message: 'm', creator: 999, queue: 1, source: 3 }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('creator must be an existing user id');
    expect(sandbox.calls.filter((c) => c.path.endsWith('/v1/tickets'))).toHaveLength(1);
  });

  it('a wrong secret is a clear auth error, and neither the secret nor the key reaches a log line', async () => {
    const { client } = make({ secret: 'wrong-secret-value' });
    const error = await client.findUserByAddress('a@example.com').catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('inbenta_auth_failed');
    expect((error as Error).message).not.toContain('wrong-secret-value');
    const { client: good } = make();
    sandbox.faults.push({ path: /users/, status: 500, times: 1 });
    await good.findUserByAddress('a@example.com');
    const logs = logLines.join('\n');
    expect(logs).toContain('retried');
    expect(logs).not.toContain(sandbox.apiSecret);
    expect(logs).not.toContain(sandbox.apiKey);
  });
});
