/**
 * The WOZTELL HTTP APIs, nothing else: the Bot API (`sendResponses`), the Open API
 * (GraphQL) and the Inbox integration API with its signed-context headers. Built on the shared
 * PlatformHttpClient; `ok !== 1` and GraphQL `errors[]` are errors too. Credentials travel in headers
 * or axios params, never in the paths that errors and logs show.
 */
import { z } from 'zod';
import { PlatformApiError } from '../../src/errors';
import { PlatformHttpClient, readCommonErrorMessage, type PlatformHttpClientOptions } from '../../src/http/platform-http-client';
import type { ErrorCode } from '../../src/error-codes';
import {
  InboxNoteResultSchema,
  InboxThreadPageSchema,
  InboxThreadResultSchema,
  InboxUserPageSchema,
  InstalledIntegrationsSchema,
  MemberLiveChatSchema,
  SendResponsesResultSchema,
  type InboxThread,
  type InboxUser,
} from './schemas';
import type { WoztellResponseItem } from './convert-outgoing';

export type HttpOptions = Omit<PlatformHttpClientOptions, 'platform' | 'baseUrl' | 'headers'>;

/** WOZTELL error bodies: `{ok:0, err, err_code}`, `{error}`, `{message}`, GraphQL `errors[]`. */
export function readWoztellError(body: unknown): string | undefined {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (typeof b.err === 'string' && b.err) return b.err_code !== undefined ? `${b.err} (${String(b.err_code)})` : b.err;
  }
  return readCommonErrorMessage(body);
}

function refusal(method: string, path: string, status: number, body: unknown, code: ErrorCode): PlatformApiError {
  return new PlatformApiError('woztell', status, method, path, readWoztellError(body) ?? 'the answer was not ok: 1', code);
}

// ------------------------------------------------------------------ Bot API

export interface SendResponsesRequest {
  channelId: string;
  memberId?: string;
  recipientId?: string;
  response: WoztellResponseItem[];
}

export class WoztellBotClient {
  readonly http: PlatformHttpClient;

  constructor(
    baseUrl: string,
    private readonly accessToken: string,
    options: HttpOptions = {},
  ) {
    this.http = new PlatformHttpClient({ ...options, platform: 'woztell', baseUrl, readErrorMessage: readWoztellError });
  }

  /** `POST /sendResponses?accessToken=…` (the documented form); `ok !== 1` → `woztell_send_failed`. */
  async sendResponses(request: SendResponsesRequest): Promise<unknown> {
    const path = '/sendResponses';
    const res = await this.http.request({ method: 'POST', path, params: { accessToken: this.accessToken }, data: request });
    const parsed = SendResponsesResultSchema.safeParse(res.data);
    if (!parsed.success || parsed.data.ok !== 1) throw refusal('POST', path, res.status, res.data, 'woztell_send_failed');
    return parsed.data.sendResult;
  }
}

// ------------------------------------------------------------------ Open API (GraphQL)

export interface InboxCredentials {
  appId: string;
  appIntegrationId: string;
  signature: string;
}

/** The credentials given in configuration, when all three are. */
export function configuredInboxCredentials(c: { appId?: string; appIntegrationId?: string; inboxSignature?: string }): InboxCredentials | undefined {
  return c.appId && c.appIntegrationId && c.inboxSignature ? { appId: c.appId, appIntegrationId: c.appIntegrationId, signature: c.inboxSignature } : undefined;
}

export class WoztellOpenApiClient {
  readonly http: PlatformHttpClient;

  constructor(baseUrl: string, accessToken: string, options: HttpOptions = {}) {
    this.http = new PlatformHttpClient({
      ...options,
      platform: 'woztell',
      baseUrl,
      headers: { Authorization: `Bearer ${accessToken}` },
      readErrorMessage: readWoztellError,
    });
  }

  /** One GraphQL call; `errors[]` (sent with HTTP 200) → `woztell_graphql_error`. */
  async query<T>(query: string, variables: Record<string, unknown>, schema: z.ZodType<T>): Promise<T> {
    const res = await this.http.request<{ data?: unknown; errors?: unknown }>({ method: 'POST', path: '/', data: { query, variables } });
    const body = res.data;
    if (!body || typeof body !== 'object' || (Array.isArray(body.errors) && body.errors.length > 0) || body.data === undefined || body.data === null) {
      throw refusal('POST', '/ (GraphQL)', res.status, body, 'woztell_graphql_error');
    }
    return schema.parse(body.data);
  }

  /** The installed inbox integration's credentials, preferring `appId` when given. */
  async findInboxCredentials(appId?: string): Promise<InboxCredentials | undefined> {
    const data = await this.query('query { apiViewer { installedIntegrations { appId _id signature integrationId } } }', {}, InstalledIntegrationsSchema);
    const inboxes = data.apiViewer.installedIntegrations.filter((i) => i.integrationId === 'inbox' && i.signature && i.appId);
    const match = inboxes.find((i) => !appId || i.appId === appId);
    return match ? { appId: match.appId!, appIntegrationId: match._id, signature: match.signature! } : undefined;
  }

  /** The member's live-chat flag; undefined when WOZTELL does not know the member. */
  async memberLiveChat(channelId: string, externalId: string): Promise<boolean | undefined> {
    const data = await this.query(
      'query($channelId: ID, $externalId: ID) { apiViewer { member(channelId: $channelId, externalId: $externalId) { _id botMeta { liveChat } } } }',
      { channelId, externalId },
      MemberLiveChatSchema,
    );
    const member = data.apiViewer.member;
    if (!member) return undefined;
    return member.botMeta?.liveChat ?? false;
  }
}

// ------------------------------------------------------------------ Inbox integration API

/** Every path of the Inbox API is configurable: the GET paths carry `/api/`, the POST paths do not. */
export interface InboxPaths {
  listThreads: string;
  listUsers: string;
  updateThreadFolder: string;
  updateThreadAgent: string;
  updateThreadTitle: string;
  internalMessage: string;
}

export const DEFAULT_INBOX_PATHS: InboxPaths = {
  listThreads: '/api/list-threads',
  listUsers: '/api/list-users',
  updateThreadFolder: '/update-thread-folder',
  updateThreadAgent: '/update-thread-agent',
  updateThreadTitle: '/update-thread-title',
  internalMessage: '/internal-message',
};

/** The two headers of every Inbox call, byte for byte. */
export function signedContextHeaders(credentials: InboxCredentials): { 'X-Woztell-Payload': string; 'X-Woztell-SignedContext': string } {
  // Keys in this order: appIntegration, then app.
  const payload = JSON.stringify({ appIntegration: credentials.appIntegrationId, app: credentials.appId });
  return {
    'X-Woztell-Payload': payload,
    'X-Woztell-SignedContext': `${credentials.signature}.${Buffer.from(payload, 'utf8').toString('base64')}`,
  };
}

export interface ThreadFilter {
  channelId?: string;
  folderId?: string;
  memberId?: string;
  externalId?: string;
  threadId?: string;
  userId?: string;
}

export interface Page<T> {
  items: T[];
  after?: string;
  hasNext: boolean;
}

export class WoztellInboxClient {
  readonly http: PlatformHttpClient;
  readonly paths: InboxPaths;
  private credentials?: Promise<InboxCredentials>;

  /** `credentials` is called once (and again after a failure) to get the integration's signature. */
  constructor(
    baseUrl: string,
    private readonly loadCredentials: () => Promise<InboxCredentials>,
    options: HttpOptions & { paths?: Partial<InboxPaths> } = {},
  ) {
    const { paths, ...http } = options;
    this.paths = { ...DEFAULT_INBOX_PATHS, ...paths };
    this.http = new PlatformHttpClient({ ...http, platform: 'woztell', baseUrl, readErrorMessage: readWoztellError });
  }

  private async headers(): Promise<Record<string, string>> {
    this.credentials ??= this.loadCredentials().catch((error: unknown) => {
      this.credentials = undefined;
      throw error;
    });
    return signedContextHeaders(await this.credentials);
  }

  private async get(path: string, params: Record<string, string | number | undefined>): Promise<unknown> {
    const res = await this.http.request({ method: 'GET', path, params, headers: await this.headers() });
    return res.data;
  }

  private async post<T>(path: string, data: Record<string, unknown>, schema: z.ZodType<T>): Promise<T> {
    const res = await this.http.request({ method: 'POST', path, data, headers: await this.headers() });
    const parsed = schema.safeParse(res.data);
    if (!parsed.success) throw refusal('POST', path, res.status, res.data, 'woztell_inbox_refused');
    return parsed.data;
  }

  async listThreadsPage(filter: ThreadFilter, page: { limit?: number; after?: string } = {}): Promise<Page<InboxThread>> {
    const path = this.paths.listThreads;
    const body = await this.get(path, { ...filter, limit: page.limit, after: page.after });
    const parsed = InboxThreadPageSchema.safeParse(body);
    if (!parsed.success) throw refusal('GET', path, 200, body, 'woztell_inbox_refused');
    return { items: parsed.data.data, after: parsed.data.paging?.cursors?.after ?? undefined, hasNext: parsed.data.paging?.hasNext === true };
  }

  async listUsersPage(filter: ThreadFilter, page: { limit?: number; after?: string } = {}): Promise<Page<InboxUser>> {
    const path = this.paths.listUsers;
    const body = await this.get(path, { ...filter, limit: page.limit, after: page.after });
    const parsed = InboxUserPageSchema.safeParse(body);
    if (!parsed.success) throw refusal('GET', path, 200, body, 'woztell_inbox_refused');
    return { items: parsed.data.data, after: parsed.data.paging?.cursors?.after ?? undefined, hasNext: parsed.data.paging?.hasNext === true };
  }

  /** The member's thread (the first match), or undefined. */
  async findThread(filter: ThreadFilter): Promise<InboxThread | undefined> {
    return (await this.listThreadsPage(filter, { limit: 1 })).items[0];
  }

  /** Every inbox user matching the filter, following cursors until `hasNext` is false or a cursor repeats. */
  async listAllUsers(filter: ThreadFilter, options: { pageSize?: number; stopWhen?: (user: InboxUser) => boolean } = {}): Promise<InboxUser[]> {
    const users: InboxUser[] = [];
    const seen = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const page = await this.listUsersPage(filter, { limit: options.pageSize ?? 50, after });
      users.push(...page.items);
      if (options.stopWhen && page.items.some(options.stopWhen)) return users;
      if (!page.hasNext || !page.after || seen.has(page.after)) return users;
      seen.add(page.after);
      after = page.after;
    }
  }

  async updateThreadFolder(memberId: string, folderId: string): Promise<InboxThread | undefined> {
    return (await this.post(this.paths.updateThreadFolder, { memberId, folderId }, InboxThreadResultSchema)).thread ?? undefined;
  }

  /** `userId: null` removes the assignee. */
  async updateThreadAgent(memberId: string, userId: string | null): Promise<InboxThread | undefined> {
    return (await this.post(this.paths.updateThreadAgent, { memberId, userId }, InboxThreadResultSchema)).thread ?? undefined;
  }

  async updateThreadTitle(target: { memberId?: string; threadId?: string }, title: string): Promise<InboxThread | undefined> {
    return (await this.post(this.paths.updateThreadTitle, { ...target, title }, InboxThreadResultSchema)).thread ?? undefined;
  }

  /** A note only agents see. */
  async internalMessage(target: { memberId?: string; threadId?: string }, message: string): Promise<void> {
    await this.post(this.paths.internalMessage, { ...target, message }, InboxNoteResultSchema);
  }
}
