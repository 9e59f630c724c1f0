/**
 * The one HTTP client layer every platform client is built on (axios): keep-alive, a timeout on every
 * call, retries on 429/5xx/network errors with exponential backoff and jitter honouring Retry-After,
 * a bounded total retry time, and typed errors that keep the platform's own message (and the wait
 * Retry-After asked for). Clients whose calls the outbox makes are built with one attempt: the
 * outbox is their only retry layer.
 */
import http from 'node:http';
import https from 'node:https';
import axios, { AxiosError, type AxiosInstance, type Method } from 'axios';
import { PlatformApiError, PlatformNetworkError } from '../errors';
import type { ErrorCode } from '../error-codes';
import { directRequest, DirectRequestError } from './direct-request';
import { systemClock, type Clock } from '../clock';
import type { Metrics } from '../metrics';
import { silentLogger, type Logger } from '../log';
import { backoffDelay, DEFAULT_RETRY, isRetryableStatus, parseRetryAfter, type RetryOptions } from './retry-policy';
import { context, propagation } from '@opentelemetry/api';
import { inSpan, SpanKind, SpanStatusCode, tracing } from '../tracing/tracer';
import { platformKey, platformLabels } from '../tenants/tenant-scope';

export interface PlatformHttpClientOptions {
  platform: string;
  /** The tenant whose credentials these are: its calls are counted under its label. */
  tenant?: string;
  baseUrl: string;
  /** Sent with every request (credentials go here, never in logged paths). */
  headers?: Record<string, string>;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  clock?: Clock;
  metrics?: Metrics;
  logger?: Logger;
  /** Reads the platform's error message out of an error body. */
  readErrorMessage?: (body: unknown) => string | undefined;
  /** Redirects followed (default 0: platform APIs do not redirect, and following costs a wrapper per request). */
  maxRedirects?: number;
  /** Reads a platform's own "wait until" headers (ms from now) when Retry-After is absent. */
  readRetryDelay?: (headers: Record<string, string>, now: number) => number | undefined;
}

export interface PlatformRequest {
  method: Method;
  /** Path relative to the base URL; it appears in errors and logs, so it must not carry secrets. */
  path: string;
  data?: unknown;
  params?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Set false for calls that must not be repeated whatever happens. */
  retry?: boolean;
  /** Statuses handed back to the caller instead of thrown (e.g. 404 for a lookup). */
  acceptStatuses?: number[];
  /** `arraybuffer` for files (default: JSON). */
  responseType?: 'json' | 'arraybuffer';
  /** Refuses answers larger than this (default 20 MB). */
  maxContentLength?: number;
}

export interface PlatformResponse<T> {
  status: number;
  data: T;
  headers: Record<string, string>;
}

/** Reads the common shapes of platform error bodies. */
export function readCommonErrorMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim().slice(0, 500) || undefined;
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const pick = (v: unknown): string | undefined => {
    if (typeof v === 'string' && v) return v;
    if (Array.isArray(v) && v.length > 0) return pick(v[0]);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      return pick(o.message) ?? pick(o.Message) ?? pick(o.error);
    }
    return undefined;
  };
  return pick(b.error) ?? pick(b.message) ?? pick(b.errors) ?? pick(b.Message) ?? pick(b.description);
}

const keepAliveHttp = new http.Agent({ keepAlive: true, maxSockets: 64 });
const keepAliveHttps = new https.Agent({ keepAlive: true, maxSockets: 64 });

/** What one attempt got back, whichever way it was sent. */
interface Answer {
  status: number;
  data: unknown;
  headers: Record<string, unknown>;
}

const DEFAULT_MAX_CONTENT_LENGTH = 20 * 1024 * 1024;

export class PlatformHttpClient {
  readonly platform: string;
  private readonly axios: AxiosInstance;
  private readonly baseUrl: string;
  /** The API host, for client spans. */
  private readonly host: string;
  private readonly defaultHeaders: Record<string, string>;
  private readonly retry: RetryOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly readErrorMessage: (body: unknown) => string | undefined;
  private duration?: { observe(value: number): void };
  private readonly calls = new Map<number | 'network', { inc(): void }>();

  constructor(private readonly options: PlatformHttpClientOptions) {
    this.platform = options.platform;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.readErrorMessage = options.readErrorMessage ?? readCommonErrorMessage;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.host = hostOf(this.baseUrl);
    this.defaultHeaders = lowerCaseKeys({ 'User-Agent': 'botbuilder-handoff-adapters', Accept: 'application/json, text/plain, */*', ...options.headers });
    this.axios = axios.create({
      baseURL: this.baseUrl,
      timeout: options.timeoutMs ?? 10_000,
      headers: { 'User-Agent': 'botbuilder-handoff-adapters', ...options.headers },
      httpAgent: keepAliveHttp,
      httpsAgent: keepAliveHttps,
      validateStatus: () => true,
      maxRedirects: options.maxRedirects ?? 0,
      maxContentLength: DEFAULT_MAX_CONTENT_LENGTH,
      transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: true },
    });
  }

  /** Counts one attempt (labelled children cached: no per-call label objects). */
  private observe(startedAt: bigint, status: number | 'network'): void {
    const metrics = this.options.metrics;
    if (!metrics) return;
    this.duration ??= metrics.outgoingDuration.labels(platformLabels(platformKey(this.platform, this.options.tenant)));
    this.duration.observe(Number(process.hrtime.bigint() - startedAt) / 1e9);
    let calls = this.calls.get(status);
    if (!calls) this.calls.set(status, (calls = metrics.outgoingCalls.labels({ ...platformLabels(platformKey(this.platform, this.options.tenant)), status: String(status) })));
    calls.inc();
  }

  /** Sends a request; retries what is retryable; throws PlatformApiError / PlatformNetworkError. */
  async request<T = unknown>(req: PlatformRequest): Promise<PlatformResponse<T>> {
    const started = this.clock.now();
    const method = req.method.toUpperCase();
    const canRetry = req.retry !== false;
    for (let attempt = 1; ; attempt++) {
      let response: Answer | undefined;
      let networkReason: string | undefined;
      let networkCause: unknown;
      const attemptStart = process.hrtime.bigint();
      const timeoutMs = req.timeoutMs ?? this.options.timeoutMs ?? 10_000;
      try {
        response = await this.send(req, method, timeoutMs, attempt);
      } catch (error) {
        networkCause = error;
        networkReason = describeNetworkError(error, timeoutMs);
      }
      this.observe(attemptStart, response ? response.status : 'network');

      if (response && ((response.status >= 200 && response.status < 300) || req.acceptStatuses?.includes(response.status))) {
        return { status: response.status, data: response.data as T, headers: flattenHeaders(response.headers) };
      }

      const retryable = response ? isRetryableStatus(response.status) : true;
      const elapsed = this.clock.now() - started;
      let delay = backoffDelay(attempt, this.retry, this.clock.random());
      const retryAfter = response
        ? (parseRetryAfter(headerValue(response.headers, 'retry-after'), this.clock.now()) ??
          this.options.readRetryDelay?.(flattenHeaders(response.headers), this.clock.now()))
        : undefined;
      if (retryAfter !== undefined) delay = retryAfter;
      const withinBudget = elapsed + delay <= this.retry.maxTotalMs;

      if (!canRetry || !retryable || attempt >= this.retry.maxAttempts || !withinBudget) {
        if (response) {
          const message = this.readErrorMessage(response.data);
          const code: ErrorCode | undefined = response.status === 429 ? `${this.platform}_rate_limited` : undefined;
          throw new PlatformApiError(this.platform, response.status, method, req.path, message, code, retryAfter);
        }
        throw new PlatformNetworkError(this.platform, method, req.path, networkReason ?? 'unknown error', networkCause);
      }
      this.logger.warn('platform call will be retried', {
        platform: this.platform,
        method,
        path: req.path,
        status: response?.status,
        reason: networkReason,
        attempt,
        delayMs: delay,
      });
      await this.clock.sleep(delay);
    }
  }

  /**
   * One attempt, traced as a client span (the path, never the query or a header; the status) whose
   * context goes along in `traceparent`.
   */
  private send(req: PlatformRequest, method: string, timeoutMs: number, attempt: number): Promise<Answer> {
    if (!tracing()) return this.isDirect(req) ? this.sendDirect(req, timeoutMs) : this.sendWithAxios(req, timeoutMs);
    // A full URL (a file to fetch) may carry a signed id in its path: only its host is kept.
    const absolute = /^https?:\/\//i.test(req.path);
    const attributes = {
      'http.request.method': method,
      'server.address': absolute ? hostOf(req.path) : this.host,
      ...(absolute ? {} : { 'url.path': req.path.split('?')[0]! }),
      'handoff.platform': this.platform,
      'http.request.resend_count': attempt - 1,
    };
    return inSpan(`${method}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      const headers: Record<string, string> = { ...req.headers };
      propagation.inject(context.active(), headers);
      const traced = { ...req, headers };
      const answer = this.isDirect(traced) ? await this.sendDirect(traced, timeoutMs) : await this.sendWithAxios(traced, timeoutMs);
      span.setAttribute('http.response.status_code', answer.status);
      if (answer.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
      return answer;
    });
  }

  /** JSON in, JSON out, no redirects: the everyday platform call, sent without axios (see direct-request). */
  private isDirect(req: PlatformRequest): boolean {
    if ((this.options.maxRedirects ?? 0) !== 0 || (req.responseType && req.responseType !== 'json')) return false;
    const data = req.data;
    return data === undefined || (typeof data === 'object' && data !== null && (Array.isArray(data) || Object.getPrototypeOf(data) === Object.prototype));
  }

  private async sendDirect(req: PlatformRequest, timeoutMs: number): Promise<Answer> {
    const url = new URL(/^https?:\/\//i.test(req.path) ? req.path : this.baseUrl + (req.path.startsWith('/') ? req.path : `/${req.path}`));
    if (req.params) for (const [k, v] of Object.entries(req.params)) if (v !== undefined) url.searchParams.append(k, String(v));
    const headers = req.headers ? { ...this.defaultHeaders, ...lowerCaseKeys(req.headers) } : { ...this.defaultHeaders };
    let body: string | undefined;
    if (req.data !== undefined) {
      body = JSON.stringify(req.data);
      headers['content-type'] ??= 'application/json';
    }
    return directRequest({
      method: req.method.toUpperCase(),
      url,
      headers,
      body,
      timeoutMs,
      maxContentLength: req.maxContentLength ?? DEFAULT_MAX_CONTENT_LENGTH,
      agent: url.protocol === 'https:' ? keepAliveHttps : keepAliveHttp,
    });
  }

  private async sendWithAxios(req: PlatformRequest, timeoutMs: number): Promise<Answer> {
    const response = await this.axios.request({
      method: req.method,
      url: req.path,
      data: req.data,
      params: req.params,
      headers: req.headers,
      timeout: timeoutMs,
      ...(req.responseType ? { responseType: req.responseType } : {}),
      ...(req.maxContentLength ? { maxContentLength: req.maxContentLength } : {}),
    });
    return { status: response.status, data: response.data as unknown, headers: response.headers as Record<string, unknown> };
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

/** The reason of a network error when the answer exceeded `maxContentLength`. */
export const TOO_LARGE = 'the answer is larger than the size limit';

function describeNetworkError(error: unknown, timeoutMs: number): string {
  if (error instanceof DirectRequestError) {
    if (error.code === 'too_large') return TOO_LARGE;
    if (error.code === 'timeout') return `no answer within ${timeoutMs} ms`;
    return error.code;
  }
  if (error instanceof AxiosError) {
    if (/maxContentLength/.test(error.message)) return TOO_LARGE;
    if (error.code === 'ETIMEDOUT' || error.code === 'ECONNABORTED') return `no answer within ${timeoutMs} ms`;
    if (error.code) return error.code;
  }
  return error instanceof Error ? error.message : String(error);
}

function headerValue(headers: Record<string, unknown>, name: string): string | undefined {
  const v = (headers as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? String(v[0]) : v === undefined || v === null ? undefined : String(v);
}

function flattenHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (v !== undefined && v !== null) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}
