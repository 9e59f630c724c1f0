/**
 * The operator's console at /console, mounted on the endpoint's own server: the page, its assets, the
 * login, and the JSON, SSE and action endpoints under /console/api. Every request passes ConsoleAccess
 * first; every answer is scrubbed of the configured secrets. Reads are indexed lookups on the store's
 * read side and the page asks for them at most once a second: nothing here holds up a webhook.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response, Server } from 'restify';
import { z } from 'zod';
import type { ConsoleConfig } from '../config';
import { clientAddress } from '../http/client-address';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { OutboxDelivery } from '../outbox/outbox-delivery';
import type { InboxEvent } from '../storage/event-inbox';
import type { Stores } from '../storage/stores';
import { ConsoleAccess } from './console-access';
import { ConsoleActions } from './console-actions';
import { ConsoleAssets, type AssetName } from './console-assets';
import { ConsoleHttpError, PAGE_CSP, isSecureRequest, parseWith, readBody, readJson, redirect, sendError, sendJson, sendText, BASE_HEADERS } from './console-http';
import { ConsoleLive } from './console-live';
import { consolePage, loginPage } from './console-page';
import { ConsoleViews } from './console-views';
import { LoginThrottle } from './login-throttle';
import { MetricsSampler } from './metrics-sampler';
import { redactJson, redactSecrets } from './redact-secrets';
import { SandboxPlay, type SandboxLinks } from './sandbox-play';
import { tenantOf } from '../tenants/tenant-scope';

export interface ConsoleDeps {
  config: ConsoleConfig;
  /** Sandbox mode: without a token, loopback clients get in; the roles can be played. */
  sandbox: boolean;
  stores: Stores;
  delivery: OutboxDelivery;
  metrics: Metrics;
  logger: Logger;
  /** Values never to send (the configuration's and the sandbox platforms' credentials). */
  secrets: string[];
  /** Processes an event taken back from the set-aside ones; false when no intake serves its platform. */
  requeue: (event: InboxEvent) => boolean;
  sandboxes?: SandboxLinks;
  /** Each tenant's console token, as they are now: its operator sees that tenant's conversations only. */
  tenantTokens?: () => ReadonlyMap<string, string>;
  now?: () => number;
  sampleEveryMs?: number;
  livePollMs?: number;
}

export interface MountedConsole {
  sampler: MetricsSampler;
  live: ConsoleLive;
  close(): void;
}

const Limit = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);
const ConversationQuery = z.object({
  platform: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must be a platform name').optional(),
  owner: z.enum(['bot', 'human', 'ticket']).optional(),
  limit: Limit(200, 1000),
});
const TimelineQuery = z.object({ after: z.coerce.number().int().min(0).optional(), limit: Limit(500, 2000) });
const ListQuery = z.object({ limit: Limit(200, 1000) });
const Id = z.coerce.number().int().positive();
const ConversationId = z.string().min(1).max(300);
const DiscardBody = z.object({ reason: z.string().trim().max(500).optional() }).strict();
const LoginBody = z.object({ token: z.string().min(1).max(1000) });

export function mountConsole(server: Server, deps: ConsoleDeps): MountedConsole {
  const now = deps.now ?? Date.now;
  const access = new ConsoleAccess({ enabled: deps.config.enabled, token: deps.config.token, tenantTokens: deps.tenantTokens, readOnly: deps.config.readOnly, now });
  const views = new ConsoleViews(deps.stores, now, (id, stored) => deps.delivery.attemptsOf(id, stored));
  const actions = new ConsoleActions({ stores: deps.stores, delivery: deps.delivery, requeue: deps.requeue, logger: deps.logger.child({ component: 'console' }) });
  const assets = new ConsoleAssets();
  const throttle = new LoginThrottle(now);
  const sampler = new MetricsSampler(deps.metrics, { everyMs: deps.sampleEveryMs, now, outboxBacklog: () => deps.delivery.backlog });
  const live = new ConsoleLive(deps.stores.timeline, sampler, { pollMs: deps.livePollMs });
  const play = deps.sandbox && deps.sandboxes ? new SandboxPlay(deps.sandboxes) : undefined;
  if (deps.config.enabled) sampler.start();

  const json = (res: ServerResponse, body: unknown, status = 200) => {
    const text = redactJson(JSON.stringify(body), deps.secrets);
    res.writeHead(status, { ...BASE_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };

  const page = async (req: IncomingMessage, res: ServerResponse) => {
    const admission = access.admit(req);
    if ('login' in admission) return redirect(res, '/console/login');
    sendText(res, 200, 'text/html; charset=utf-8', consolePage({ csrf: admission.csrf, sandbox: deps.sandbox, readOnly: access.readOnly, session: access.needsLogin }), { 'Content-Security-Policy': PAGE_CSP });
  };

  const login = async (req: IncomingMessage, res: ServerResponse) => {
    access.admit(req); // 404 when the console is off
    const sessions = access.sessions;
    if (!sessions) return redirect(res, '/console');
    const wantsJson = /^application\/json\b/i.test(String(req.headers['content-type'] ?? ''));
    const wait = throttle.retryAfterMs();
    if (wait > 0) {
      const seconds = String(Math.ceil(wait / 1000));
      if (wantsJson) return sendError(res, 429, 'console_login_throttled', 'too many wrong tokens; wait a minute', { 'Retry-After': seconds });
      return sendText(res, 429, 'text/html; charset=utf-8', loginPage('Too many wrong tokens. Wait a minute and try again.'), { 'Retry-After': seconds, 'Content-Security-Policy': PAGE_CSP });
    }
    const raw = await readBody(req);
    let token: string | undefined;
    if (wantsJson) {
      try {
        token = parseWith(LoginBody, JSON.parse(raw || '{}') as unknown, 'body').token;
      } catch (error) {
        if (error instanceof ConsoleHttpError) throw error;
        throw new ConsoleHttpError(400, 'invalid_json', 'the body is not valid JSON');
      }
    } else {
      token = new URLSearchParams(raw).get('token') ?? undefined;
    }
    const opened = token ? sessions.checkToken(token) : undefined;
    if (!opened) {
      throttle.failed();
      deps.logger.warn('console login refused: wrong token', { remote: clientAddress(req) });
      if (wantsJson) return sendError(res, 401, 'console_token_invalid', 'the token is wrong');
      return sendText(res, 401, 'text/html; charset=utf-8', loginPage('That token is not right.'), { 'Content-Security-Policy': PAGE_CSP });
    }
    const issued = sessions.issue(opened.tenant);
    const cookie = sessions.cookie(issued.value, isSecureRequest(req));
    if (wantsJson) return sendJson(res, 200, { ok: true }, { 'Set-Cookie': cookie });
    redirect(res, '/console', { 'Set-Cookie': cookie });
  };

  const api = async (req: IncomingMessage, res: ServerResponse, path: string[], query: URLSearchParams) => {
    const method = req.method ?? 'GET';
    let tenant: string | undefined;
    if (method === 'POST') tenant = access.admitAction(req).tenant;
    else {
      const admission = access.admit(req);
      if ('login' in admission) throw new ConsoleHttpError(401, 'console_unauthorized', 'log in to the console first (POST /console/login with the token)');
      tenant = admission.tenant;
    }
    // A tenant's operator sees its conversations only: anything of another is as if it did not exist.
    const mine = (conversationId: string) => tenant === undefined || tenantOf(conversationId) === tenant;
    const q = Object.fromEntries(query);
    const [a, b, c, ...rest] = path;
    if (method === 'GET' && a === 'session' && !b) return json(res, { sandbox: deps.sandbox, readOnly: access.readOnly, session: access.needsLogin, play: play?.describe(), ...(tenant ? { tenant } : {}) });
    if (method === 'GET' && a === 'conversations' && !b) {
      const filter = parseWith(ConversationQuery, q, 'query');
      return json(res, { now: now(), conversations: await views.conversations({ ...filter, tenant }) });
    }
    if (method === 'GET' && a === 'conversations' && b && c === 'timeline' && rest.length === 0) {
      const id = parseWith(ConversationId, b, 'conversation id');
      const { after, limit } = parseWith(TimelineQuery, q, 'query');
      return json(res, { now: now(), ...(mine(id) ? await views.timeline(id, after, limit) : { entries: [] }) });
    }
    // The lists of work waiting: a tenant's operator's are read as the tenant's alone (its limit is its own).
    if (method === 'GET' && a === 'outbox' && !b) return json(res, { now: now(), actions: await views.outbox(parseWith(ListQuery, q, 'query').limit, tenant) });
    if (method === 'GET' && a === 'set-aside' && !b) return json(res, { now: now(), events: await views.setAside(parseWith(ListQuery, q, 'query').limit, tenant) });
    // The health figures are the whole endpoint's (every tenant's traffic): not a tenant operator's to see.
    if (method === 'GET' && a === 'health' && !b) return json(res, { now: now(), everyMs: sampler.everyMs, samples: tenant ? [] : sampler.samples() });
    if (method === 'GET' && a === 'stream' && !b) return live.attach(req, res, { samples: tenant === undefined, tenant });
    if (method === 'POST' && (a === 'outbox' || a === 'set-aside') && b && (c === 'retry' || c === 'discard') && rest.length === 0) {
      const id = parseWith(Id, b, 'id');
      const body = await readJson(req, DiscardBody);
      if (tenant !== undefined) {
        const owned = a === 'outbox' ? (await deps.stores.outbox.get(id))?.conversationId : (await views.setAside(10_000, tenant)).find((e) => e.id === id)?.conversationId;
        if (owned === undefined || !mine(owned)) throw new ConsoleHttpError(404, 'not_found', `no ${a === 'outbox' ? 'pending or failed outbox action' : 'set aside event'} ${id}`);
      }
      if (a === 'outbox' && c === 'retry') await actions.retryAction(id);
      else if (a === 'outbox') await actions.discardAction(id, body.reason);
      else if (c === 'retry') await actions.retryEvent(id);
      else await actions.discardEvent(id);
      return json(res, { ok: true });
    }
    if (a === 'play') {
      if (!play) throw new ConsoleHttpError(404, 'not_found', 'the roles can be played in sandbox mode only');
      return json(res, await play.handle({ method: method === 'POST' ? 'POST' : 'GET', segments: path.slice(1), body: () => readJson(req, z.unknown()) }));
    }
    throw new ConsoleHttpError(404, 'not_found', `no console endpoint ${method} /console/api/${path.join('/')}`);
  };

  const handler = async (req: Request, res: Response) => {
    try {
      const url = new URL(req.url ?? '/console', 'http://console.invalid');
      const path = url.pathname.replace(/^\/console\/?/, '').split('/').filter((s) => s !== '').map(decodeSegment);
      const method = req.method ?? 'GET';
      const [first, second] = path;
      if (first === undefined && method === 'GET') return await page(req, res);
      if (first === 'login' && path.length === 1 && method === 'GET') {
        access.admit(req);
        if (!access.sessions) return redirect(res, '/console');
        return sendText(res, 200, 'text/html; charset=utf-8', loginPage(), { 'Content-Security-Policy': PAGE_CSP });
      }
      if (first === 'login' && path.length === 1 && method === 'POST') return await login(req, res);
      if (first === 'logout' && path.length === 1 && method === 'POST') {
        const admission = access.admit(req);
        if (!access.sessions || 'login' in admission) return sendJson(res, 200, { ok: true });
        return sendJson(res, 200, { ok: true }, { 'Set-Cookie': access.sessions.clearCookie(isSecureRequest(req)) });
      }
      if (first === 'assets' && (second === 'console.js' || second === 'console.css') && path.length === 2 && method === 'GET') {
        access.admit(req); // 404 when off; the assets hold nothing secret and the login page needs the style
        const asset = await assets.get(second as AssetName);
        if (req.headers['if-none-match'] === asset.etag) {
          res.writeHead(304, { ...BASE_HEADERS, 'Cache-Control': 'no-cache', ETag: asset.etag });
          // Nothing returned: restify logs (with the whole response object) a value an async handler returns.
          res.end();
          return;
        }
        const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
        return sendText(res, 200, asset.contentType, gzip ? asset.gzipped : asset.body, { 'Cache-Control': 'no-cache', ETag: asset.etag, Vary: 'Accept-Encoding', ...(gzip ? { 'Content-Encoding': 'gzip' } : {}) });
      }
      if (first === 'api') return await api(req, res, path.slice(1), url.searchParams);
      throw new ConsoleHttpError(404, 'not_found', `no console page ${url.pathname}`);
    } catch (error) {
      if (res.headersSent) {
        res.end();
        return;
      }
      if (error instanceof ConsoleHttpError) return sendError(res, error.status, error.code, redactSecrets(error.message, deps.secrets));
      deps.logger.error('console request failed', { path: req.url?.split('?')[0], error });
      sendError(res, 500, 'internal_error', 'the console could not answer this request');
    }
  };

  server.get('/console', handler);
  server.get('/console/*', handler);
  server.post('/console/*', handler);

  return {
    sampler,
    live,
    close() {
      sampler.stop();
      live.close();
    },
  };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ConsoleHttpError(400, 'invalid_request', 'the path is not valid URL encoding');
  }
}
