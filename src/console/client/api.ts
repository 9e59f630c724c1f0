/** The console's API from the page: JSON in and out; every POST carries the CSRF token the page was given. */

export interface PageMeta {
  csrf: string;
  sandbox: boolean;
  readOnly: boolean;
  session: boolean;
}

export function readMeta(): PageMeta {
  const meta = (name: string) => document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';
  return { csrf: meta('console-csrf'), sandbox: meta('console-mode') === 'sandbox', readOnly: meta('console-read-only') === 'true', session: meta('console-session') === 'true' };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken = '';

export function useCsrf(token: string): void {
  csrfToken = token;
}

async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await fetch(`/console/api/${path}`, {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json', ...(method === 'POST' ? { 'Content-Type': 'application/json', 'X-Console-CSRF': csrfToken } : {}) },
    body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
  });
  const data = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (response.status === 401) {
    window.location.assign('/console/login');
  }
  if (!response.ok) throw new ApiError(response.status, data.error?.code ?? 'error', data.error?.message ?? `HTTP ${response.status}`);
  return data as T;
}

export const get = <T>(path: string) => request<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, body);

// ------------------------------------------------------------------ shapes the server answers

export type Owner = 'bot' | 'human' | 'ticket';
export type Role = 'customer' | 'bot' | 'agent';

export interface Conversation {
  platform: string;
  conversationId: string;
  firstAt: number;
  lastAt: number;
  owner: Owner;
  ownerSince: number;
  lastMessage?: { role: Role; text: string; at: number };
  waitingSince?: number;
  waitingMs?: number;
}

export interface TimelineEntry {
  id: number;
  platform: string;
  conversationId: string;
  kind: 'webhook' | 'turn' | 'ownership' | 'queued' | 'delivery' | 'event';
  at: number;
  durationMs?: number;
  owner?: Owner;
  message?: { role: Role; text: string };
  detail: Record<string, unknown>;
}

export interface OutboxItem {
  id: number;
  platform: string;
  conversationId: string;
  kind: string;
  status: 'pending' | 'failed';
  /** Attempts so far, the one under way included. */
  attempts: number;
  /** An attempt is under way now. */
  attempting: boolean;
  createdAt: number;
  nextAttemptAt: number;
  finishedAt?: number;
  lastError?: string;
  summary: string;
  steps: string[];
}

export interface SetAsideItem {
  id: number;
  platform: string;
  conversationId: string;
  receivedAt: number;
  attempts: number;
  setAsideAt?: number;
  reason?: string;
  summary: string;
}

export interface HealthSample {
  t: number;
  webhooksPerSec: number;
  ackP50Ms?: number;
  ackP99Ms?: number;
  turnsPerSec: number;
  errors: number;
  handoffs: number;
  ratings: number;
  ratingSum: number;
  backlog: number;
  outboxBacklog: number;
}

export interface SessionInfo {
  sandbox: boolean;
  readOnly: boolean;
  session: boolean;
  play?: { nimchat: boolean; woztell?: { folders: string[] }; inbenta: boolean };
}
