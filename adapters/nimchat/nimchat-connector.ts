/**
 * Nimchat's answers to the pipeline: the signature (or URL token) check, the plan of a webhook
 * (which turn, which ownership events, which idempotency keys), and the Nimchat API calls for replies,
 * handoffs and control.
 */
import { ActivityTypes, type Activity } from 'botbuilder-core';
import type { ConversationControl, HandoffRequest } from '../../src/control/vocabulary';
import { InvalidRequestError } from '../../src/errors';
import { createFileDownloader, type FileDownloader } from '../../src/http/file-download';
import { header, type WebhookInput } from '../../src/http/webhook-io';
import type { OwnershipEvent } from '../../src/ownership';
import type { Connector, HandoffResult, PlannedEvent, PlanResult, Refusal, StepProgress, SurveySupport } from '../../src/pipeline/connector';
import type { PipelineRuntime } from '../../src/pipeline/pipeline-runtime';
import { NimchatClient, type HttpOptions, type OutgoingFile } from './client';
import { OUTBOX_CALLS } from '../../src/http/retry-policy';
import { platformKey } from '../../src/tenants/tenant-scope';
import type { Clock } from '../../src/clock';
import { NimchatConversationActions, parseNimchatControl } from './conversation-actions';
import { NIMCHAT_CHANNEL_ID, parseConversationId } from './conversation-ref';
import { planIncoming, planMissedMessage, type MissedMessageContact, type NimchatObservation } from './convert-incoming';
import { decodeDataUri, toNimchatMessages, type FileSource } from './convert-outgoing';
import { NimchatMessageSender } from './message-sender';
import { parseNimchatWebhook, type NimchatListedMessage } from './schemas';
import { verifyNimchatSignature, verifyUrlToken, webhookScope, type UrlTokenClaims } from './verify';

export interface NimchatConnectorOptions {
  /** The tenant served (its ids scoped by the adapter); none: the configuration from the environment. */
  tenant?: string;
  /** The only account whose webhooks are taken (401 for another's): a tenant's. */
  onlyAccountId?: number;
  baseUrl: string;
  botToken: string;
  /** When set, unsigned or badly signed webhooks get 401. */
  webhookSecret?: string;
  /** When set, webhooks need `?token=<JWT>` whose claims match the payload's account/inbox. */
  urlTokenSecret?: string;
  /** Statuses in which the bot owns the conversation (default `pending`). */
  botStatuses?: string[];
  handoffTeamId?: number;
  handoffAgentId?: number;
  /** Where a `reroute` control (nobody answered) re-assigns the conversation; else its agent is unassigned. */
  fallbackTeamId?: number;
  /** HTTP options of the Nimchat client (timeouts, retries). */
  http?: HttpOptions;
  client?: NimchatClient;
  /**
   * Reads a conversation's messages (a user token): lets the satisfaction survey see that Nimchat sent
   * the inbox's own survey when the agent resolved, and not ask again.
   */
  messageReader?: { listMessages(accountId: number, conversationId: number): Promise<{ payload: NimchatListedMessage[] }> };
  /** Downloads an outgoing attachment given by URL (default: the shared HTTP client, 40 MB at most). */
  fetchFile?: FileDownloader;
}

const MAX_DOWNLOAD_BYTES = 40 * 1024 * 1024;

export class NimchatConnector implements Connector {
  readonly platform = 'nimchat';
  readonly channelId = NIMCHAT_CHANNEL_ID;
  // 500 is one of the two statuses Nimchat redelivers on.
  readonly redeliverStatus = 500;
  /** `input_select`: buttons on the web widget; on WhatsApp at most 10 list rows of 24 characters. */
  readonly nativeChoices = { maxActions: 10, maxTitleLength: 24 };
  /**
   * The survey is Nimchat's own `input_csat` message (the widget shows a rating and a comment box; its
   * answer comes back as `message_updated`); a resolve ends a human's stretch; the inbox's own survey,
   * sent when the agent resolved, is the question already.
   */
  readonly satisfaction: SurveySupport = {
    platformSurvey: (question) => ({ type: ActivityTypes.Message, text: question, channelData: { nimchat: { content_type: 'input_csat' } } }),
    closedStatuses: ['resolved'],
    askedSince: (conversationId, sinceMs) => this.surveyedSince(conversationId, sinceMs),
  };
  readonly client: NimchatClient;
  private readonly actions: NimchatConversationActions;
  private readonly sender: NimchatMessageSender;
  private readonly botStatuses: string[];
  private readonly fetchFile: FileDownloader;
  private readonly clock: Clock;

  constructor(
    private readonly options: NimchatConnectorOptions,
    runtime: PipelineRuntime,
  ) {
    const logger = runtime.logger.child({ platform: 'nimchat', ...(options.tenant ? { tenant: options.tenant } : {}) });
    this.clock = runtime.clock;
    this.botStatuses = options.botStatuses ?? ['pending'];
    // Its calls are the outbox's (replies, handoffs, controls): the outbox retries them, the client does not.
    this.client = options.client ?? new NimchatClient(options.baseUrl, options.botToken, { metrics: runtime.metrics, logger, clock: runtime.clock, tenant: options.tenant, ...options.http, retry: { ...options.http?.retry, ...OUTBOX_CALLS } });
    this.sender = new NimchatMessageSender(this.client, runtime.sent, platformKey(this.platform, options.tenant));
    this.actions = new NimchatConversationActions(this.client, this.sender, { handoffTeamId: options.handoffTeamId, handoffAgentId: options.handoffAgentId, fallbackTeamId: options.fallbackTeamId });
    this.fetchFile = options.fetchFile ?? createFileDownloader({ code: 'nimchat_attachment_download_failed', maxBytes: MAX_DOWNLOAD_BYTES, logger, metrics: runtime.metrics });
  }

  get serviceUrl(): string {
    return this.options.baseUrl;
  }

  /**
   * Whether an `input_csat` message is in the conversation since `sinceMs`, with ten minutes' slack:
   * Nimchat's is made as the resolve happens, which may be a while before the bot processes it. Unknown
   * without a reader.
   */
  private async surveyedSince(conversationId: string, sinceMs: number): Promise<boolean> {
    const reader = this.options.messageReader;
    if (!reader) return false;
    const key = parseConversationId(conversationId);
    const list = await reader.listMessages(key.accountId, key.conversationId);
    return list.payload.some((m) => m.content_type === 'input_csat' && m.created_at * 1000 >= sinceMs - 10 * 60_000);
  }

  authenticate(input: WebhookInput, nowMs: number): { refused: Refusal } | { claims?: Record<string, unknown> } {
    const { webhookSecret, urlTokenSecret } = this.options;
    if (webhookSecret) {
      const check = verifyNimchatSignature({
        secret: webhookSecret,
        rawBody: input.rawBody,
        signature: header(input.headers, 'x-chatwoot-signature'),
        timestamp: header(input.headers, 'x-chatwoot-timestamp'),
        nowSeconds: Math.floor(nowMs / 1000),
      });
      if (!check.ok) return { refused: { status: 401, code: check.code, message: check.message } };
    }
    if (urlTokenSecret) {
      const check = verifyUrlToken(urlTokenSecret, input.query.get('token') ?? undefined);
      if (!check.ok) return { refused: { status: 401, code: check.code, message: check.message } };
      return { claims: { ...check.claims } };
    }
    return {};
  }

  plan(body: unknown, input: WebhookInput, claims: Record<string, unknown> | undefined): PlanResult {
    if (claims) {
      const refused = this.checkScope(body, claims as unknown as UrlTokenClaims);
      if (refused) return { refused };
    }
    const only = this.options.onlyAccountId;
    if (only !== undefined && webhookScope(body).account !== only) {
      return { refused: { status: 401, code: 'nimchat_account_mismatch', message: "the payload names an account this endpoint's credentials do not serve here" } };
    }
    const plan = planIncoming(parseNimchatWebhook(body), { baseUrl: this.options.baseUrl, now: this.clock.now() });
    if (!('conversationId' in plan)) return plan;
    const delivery = header(input.headers, 'x-chatwoot-delivery');
    return {
      event: {
        conversationId: plan.conversationId,
        dedupeKeys: [...(delivery ? [`nimchat:delivery:${delivery}`] : []), ...plan.dedupeKeys.map((k) => `nimchat:${k}`)],
        ownership: plan.observation ? [this.ownershipEvent(plan.observation)] : [],
        activity: plan.activity,
      },
    };
  }

  /** A customer message Nimchat never delivered, as the event its webhook would have been (see planMissedMessage). */
  planMissed(accountId: number, conversationNumber: number, message: NimchatListedMessage, contact: MissedMessageContact | undefined, observation: NimchatObservation): PlannedEvent {
    const plan = planMissedMessage(accountId, conversationNumber, message, contact, observation, { baseUrl: this.options.baseUrl, now: this.clock.now() });
    return {
      conversationId: plan.conversationId,
      dedupeKeys: plan.dedupeKeys.map((k) => `nimchat:${k}`),
      ownership: plan.observation ? [this.ownershipEvent(plan.observation)] : [],
      activity: plan.activity,
    };
  }

  /** A token with an inbox claim requires the payload's inbox, and both must match. */
  private checkScope(body: unknown, claims: UrlTokenClaims): Refusal | undefined {
    const scope = webhookScope(body);
    const inboxMismatch = claims.inbox !== undefined && scope.inbox !== claims.inbox;
    if (scope.account !== claims.account || inboxMismatch) {
      return { status: 401, code: 'nimchat_url_token_mismatch', message: 'the payload does not belong to the account/inbox of the token' };
    }
    return undefined;
  }

  private ownershipEvent(observation: NimchatObservation): OwnershipEvent {
    if (observation.kind === 'agent_message') return { type: 'agent_message', observedAt: observation.observedAt, ...(observation.agent ? { agent: observation.agent } : {}) };
    return {
      type: 'status_observed',
      status: observation.status,
      botStatus: this.botStatuses.includes(observation.status),
      explicit: observation.kind === 'status_change',
      observedAt: observation.observedAt,
    };
  }

  checkConversationId(conversationId: string): void {
    parseConversationId(conversationId);
  }

  async sendTyping(activity: Partial<Activity>): Promise<void> {
    const key = parseConversationId(activity.conversation?.id ?? '');
    await this.client.toggleTyping(key.accountId, key.conversationId, true);
  }

  async sendMessage(activity: Partial<Activity>, progress?: StepProgress): Promise<string> {
    const key = parseConversationId(activity.conversation?.id ?? '');
    const plans = toNimchatMessages(activity);
    let lastId = '';
    for (const [index, plan] of plans.entries()) {
      const part = `part:${index}`;
      // Sent by an earlier attempt.
      if (progress?.done(part)) continue;
      const files = { count: plan.files.length, load: () => Promise.all(plan.files.map((f) => this.resolveFile(f))) };
      lastId = await this.sender.create(key, plan.message, progress, files);
      // Several requests for one activity: each part marked, so a retry resumes after the last one sent.
      if (plans.length > 1 && index < plans.length - 1) await progress?.mark(part);
    }
    // The newest message's id: a later look starts after it.
    return lastId;
  }

  private async resolveFile(file: FileSource): Promise<OutgoingFile> {
    if (file.data) return { name: file.name, contentType: file.contentType, data: file.data };
    const url = file.url ?? '';
    const decoded = decodeDataUri(url);
    if (decoded) return { name: file.name, contentType: file.contentType === 'application/octet-stream' ? decoded.contentType : file.contentType, data: decoded.data };
    if (!/^https?:\/\//i.test(url)) throw new InvalidRequestError('nimchat_attachment_invalid', `attachment "${file.name}" has an unsupported URL`);
    const fetched = await this.fetchFile(url);
    const contentType = file.contentType === 'application/octet-stream' && fetched.contentType ? fetched.contentType : file.contentType;
    return { name: file.name, contentType, data: fetched.data };
  }

  parseControl(value: unknown): ConversationControl {
    return parseNimchatControl(value);
  }

  async handoff(conversationId: string, request: HandoffRequest, note: string, progress: StepProgress): Promise<HandoffResult> {
    const assigned = await this.actions.handoff(parseConversationId(conversationId), request, note, progress);
    return { platformStatus: 'open', message: 'The conversation was handed to a human agent.', ...(Object.keys(assigned).length > 0 ? { details: assigned } : {}) };
  }

  control(conversationId: string, control: ConversationControl, progress: StepProgress): Promise<void> {
    return this.actions.control(parseConversationId(conversationId), control, progress);
  }
}
