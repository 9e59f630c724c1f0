/**
 * Who gets into the console, over real HTTP: off in production without CONSOLE_TOKEN; with it, a login
 * (constant-time token check) that sets a signed HttpOnly SameSite=Strict cookie; CSRF on every
 * action; read-only mode; loopback only in the sandbox; secrets never on the page nor in a log line.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../helpers/harness';
import { consoleClient } from '../../helpers/console-client';
import { startSandboxApp } from '../../helpers/sandbox-app';

const TOKEN = 'console-token-for-tests-0123456789';

let h: Harness | undefined;
let sandboxed: Awaited<ReturnType<typeof startSandboxApp>> | undefined;
afterEach(async () => {
  await h?.close();
  await sandboxed?.close();
  h = sandboxed = undefined;
});

describe('console access with a platform configured', () => {
  it('is off without CONSOLE_TOKEN: every console path answers 404', async () => {
    h = await startHarness();
    const c = consoleClient(h.app.url);
    for (const path of ['/console', '/console/login', '/console/api/conversations', '/console/assets/console.js']) {
      const res = await c.get(path);
      expect(res.status, path).toBe(404);
      expect(res.data.error.code).toBe('console_disabled');
    }
    expect((await c.post('/console/api/outbox/1/retry', {})).status).toBe(404);
  });

  it('asks for the token once: no session → redirect (page) or 401 (API); a wrong token → 401; the right one → a signed HttpOnly SameSite=Strict cookie that opens everything', async () => {
    h = await startHarness({ env: { CONSOLE_TOKEN: TOKEN } });
    const c = consoleClient(h.app.url);
    const page = await c.get('/console');
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/console/login');
    const api = await c.get('/console/api/conversations');
    expect(api.status).toBe(401);
    expect(api.data.error.code).toBe('console_unauthorized');
    expect((await c.get('/console/api/stream')).status).toBe(401);
    const form = await c.get('/console/login');
    expect(form.status).toBe(200);
    expect(String(form.data)).toMatch(/<form method="post" action="\/console\/login"/);

    const wrong = await c.login('not-the-token-at-all');
    expect(wrong.status).toBe(401);
    expect(wrong.data.error.code).toBe('console_token_invalid');
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(c.cookie).toBeUndefined();

    const ok = await c.login(TOKEN);
    expect(ok.status).toBe(200);
    const cookie = ok.headers['set-cookie']![0]!;
    expect(cookie).toMatch(/^handoff_console=[^;]+;/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\/console/);
    expect(cookie).not.toMatch(/Secure/);
    expect(cookie).not.toContain(TOKEN);

    expect((await c.get('/console/api/conversations')).status).toBe(200);
    const html = await c.get('/console');
    expect(html.status).toBe(200);
    expect(html.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(String(html.data)).toMatch(/name="console-csrf" content="[A-Za-z0-9_-]{20,}"/);

    // A forged or altered cookie is no session.
    const value = c.cookie!.split('=')[1]!;
    const [payload, signature] = value.split('.');
    const forged = `${Buffer.from(JSON.stringify({ c: 'x', e: Date.now() + 1e9 })).toString('base64url')}.${signature}`;
    for (const bad of [`handoff_console=${forged}`, `handoff_console=${payload}.${'A'.repeat(signature!.length)}`, 'handoff_console=garbage']) {
      expect((await c.get('/console/api/conversations', { Cookie: bad })).status).toBe(401);
    }
  });

  it('marks the cookie Secure behind HTTPS, and the login form works without script (303 to the page)', async () => {
    h = await startHarness({ env: { CONSOLE_TOKEN: TOKEN } });
    const c = consoleClient(h.app.url);
    const res = await c.post('/console/login', undefined, { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Forwarded-Proto': 'https' });
    expect(res.status).toBe(401); // no token in the form
    const form = await new Promise<{ status: number; headers: http.IncomingHttpHeaders }>((resolve) => {
      const req = http.request(`${h!.app.url}/console/login`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Forwarded-Proto': 'https' } }, (r) => {
        r.resume();
        resolve({ status: r.statusCode!, headers: r.headers });
      });
      req.end(`token=${encodeURIComponent(TOKEN)}`);
    });
    expect(form.status).toBe(303);
    expect(form.headers.location).toBe('/console');
    expect(form.headers['set-cookie']![0]).toMatch(/; Secure/);
  });

  it('refuses an action without the CSRF token, with a wrong one, or from another origin; accepts it with the token', async () => {
    h = await startHarness({ env: { CONSOLE_TOKEN: TOKEN } });
    const c = consoleClient(h.app.url);
    // Without a session, an action is 401.
    expect((await c.post('/console/api/outbox/1/retry', {})).status).toBe(401);
    await c.login(TOKEN);
    const csrf = await c.csrf();
    const none = await c.post('/console/api/outbox/1/retry', {});
    expect(none.status).toBe(403);
    expect(none.data.error.code).toBe('console_csrf');
    const wrong = await c.post('/console/api/outbox/1/retry', {}, { 'X-Console-CSRF': `${csrf}x` });
    expect(wrong.status).toBe(403);
    const foreign = await c.post('/console/api/outbox/1/retry', {}, { 'X-Console-CSRF': csrf, Origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.data.error.code).toBe('console_csrf');
    // Past the checks: the action itself answers (no such action).
    const passed = await c.post('/console/api/outbox/1/retry', {}, { 'X-Console-CSRF': csrf, Origin: h.app.url });
    expect(passed.status).toBe(404);
    expect(passed.data.error.code).toBe('not_found');
    // Another session's token does not work for this one.
    const other = consoleClient(h.app.url);
    await other.login(TOKEN);
    expect((await c.post('/console/api/outbox/1/retry', {}, { 'X-Console-CSRF': await other.csrf() })).status).toBe(403);
  });

  it('read-only mode shows everything and refuses every action, changing nothing', async () => {
    h = await startHarness({
      env: { CONSOLE_TOKEN: TOKEN, CONSOLE_READ_ONLY: 'true' },
      app: { outbox: { maxAttempts: 1 }, platformOptions: { nimchat: { http: { retry: { maxAttempts: 1, baseDelayMs: 1, maxTotalMs: 10 } } } } },
    });
    h.sandbox.faults.push({ method: 'POST', path: /\/toggle_status$/, status: 500, times: 10_000 });
    const customer = await h.customer();
    await customer.say('I want a human');
    await h.settle();
    const c = consoleClient(h.app.url);
    await c.login(TOKEN);
    expect(String((await c.get('/console')).data)).toMatch(/name="console-read-only" content="true"/);
    const actions = (await c.get('/console/api/outbox')).data.actions as Array<{ id: number; status: string }>;
    expect(actions).toHaveLength(1);
    for (const path of [`/console/api/outbox/${actions[0]!.id}/retry`, `/console/api/outbox/${actions[0]!.id}/discard`, '/console/api/set-aside/1/retry']) {
      const res = await c.act(path);
      expect(res.status, path).toBe(403);
      expect(res.data.error.code).toBe('console_read_only');
    }
    expect((await c.get('/console/api/outbox')).data.actions).toEqual(actions);
    expect((await c.get('/console/api/session')).data).toMatchObject({ readOnly: true, sandbox: false });
  });

  it('slows down guessing: past 10 wrong tokens a minute, logins get 429', async () => {
    h = await startHarness({ env: { CONSOLE_TOKEN: TOKEN } });
    const c = consoleClient(h.app.url);
    for (let i = 0; i < 10; i++) expect((await c.login(`wrong-${i}`)).status).toBe(401);
    const throttled = await c.login(TOKEN);
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toMatch(/^\d+$/);
  });

  it('never shows a secret: not the bot token, the webhook secret or the console token, on the page, in the API or in a log line', async () => {
    h = await startHarness({ env: { CONSOLE_TOKEN: TOKEN }, app: { outbox: { maxAttempts: 1 }, platformOptions: { nimchat: { http: { retry: { maxAttempts: 1, baseDelayMs: 1, maxTotalMs: 10 } } } } } });
    // A failure whose platform message carries the bot token: it reaches the outbox's last error.
    h.sandbox.faults.push({ method: 'POST', path: /\/toggle_status$/, status: 500, times: 10_000, body: { error: `token ${h.botToken} rejected` } });
    const customer = await h.customer();
    await customer.say('I want a human');
    await h.settle();
    const c = consoleClient(h.app.url);
    await c.login('a-wrong-token-to-log');
    await c.login(TOKEN);
    const bodies = [
      String((await c.get('/console')).data),
      JSON.stringify((await c.get('/console/api/conversations')).data),
      JSON.stringify((await c.get(`/console/api/conversations/${encodeURIComponent(`1:${customer.conversationId}`)}/timeline`)).data),
      JSON.stringify((await c.get('/console/api/outbox')).data),
      JSON.stringify((await c.get('/console/api/session')).data),
      String((await c.get('/console/assets/console.js')).data),
    ];
    expect(bodies[2]).toMatch(/webhook/);
    expect(bodies[3]).toMatch(/\[redacted\]/);
    for (const secret of [h.botToken, h.secret, TOKEN]) {
      for (const body of bodies) expect(body).not.toContain(secret);
      for (const line of h.logLines) expect(line).not.toContain(secret);
    }
    expect(h.logLines.some((l) => l.includes('console login refused'))).toBe(true);
  });
});

describe('console access in sandbox mode', () => {
  it('is on without a token for loopback clients naming a loopback host; a rebound host name is refused; actions still need the CSRF token', async () => {
    sandboxed = await startSandboxApp();
    const c = consoleClient(sandboxed.url);
    expect((await c.get('/console')).status).toBe(200);
    expect((await c.get('/console/api/conversations')).status).toBe(200);
    const rebound = await c.get('/console/api/conversations', { Host: 'attacker.example' });
    expect(rebound.status).toBe(403);
    expect(rebound.data.error.code).toBe('console_host_refused');
    const noCsrf = await c.post('/console/api/play/nimchat/customers', { name: 'Eve' });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.data.error.code).toBe('console_csrf');
    expect(sandboxed.app.sandbox!.state.contacts.size).toBe(0);
    expect((await c.act('/console/api/play/nimchat/customers', { name: 'Ada' })).status).toBe(200);
    // The agent's token stays on the server.
    expect(String((await c.get('/console')).data)).not.toContain(sandboxed.app.sandbox!.agentToken);
  });

  it('read-only mode also refuses the roles of the sandbox', async () => {
    sandboxed = await startSandboxApp({ CONSOLE_READ_ONLY: 'true' });
    const c = consoleClient(sandboxed.url);
    const res = await c.act('/console/api/play/nimchat/customers', { name: 'Ada' });
    expect(res.status).toBe(403);
    expect(res.data.error.code).toBe('console_read_only');
  });
});
