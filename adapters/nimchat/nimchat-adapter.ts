/**
 * NimchatAdapter: the pipeline only. Webhook in → authenticity → validation → dedupe → 200 at once →
 * the turn on the conversation's queue. Bot activities out → Nimchat API calls.
 */
import axios from 'axios';
import { TurnContext, type Activity, type ResourceResponse } from 'botbuilder-core';
import type { ConversationControlValue, HandoffRequestValue } from '../../dialogs/control-schemas';
import { InvalidRequestError, NotSupportedError } from '../../src/errors';
import { header, type WebhookInput, type WebhookResult } from '../../src/http/webhook-io';
import type { Owner } from '../../src/ownership';
import { PlatformAdapter, statusActivity, type BotLogic, type PlatformAdapterOptions } from '../../src/platform-adapter';
import { NimchatClient, type HttpOptions, type OutgoingFile } from './client';
import { NimchatConversationActions, parseNimchatControl } from './conversation-actions';
import { NIMCHAT_CHANNEL_ID, parseConversationId, type NimchatConversationKey } from './conversation-ref';
import { planIncoming, type IncomingPlan } from './convert-incoming';
import { decodeDataUri, toNimchatMessages, type FileSource } from './convert-outgoing';
import { decideOwnership, type NimchatObservation } from './ownership-rules';
import { parseNimchatWebhook } from './schemas';
import { verifyNimchatSignature, verifyUrlToken, webhookScope } from './verify';

export type { BotLogic };

export interface NimchatAdapterOptions extends PlatformAdapterOptions {
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
  /** HTTP options of the Nimchat client (timeouts, retries). */
  http?: HttpOptions;
  client?: NimchatClient;
  /** Downloads an outgoing attachment given by URL. */
  fetchFile?: (url: string) => Promise<{ data: Buffer; contentType?: string }>;
}

const MAX_DOWNLOAD_BYTES = 40 * 1024 * 1024;

export class NimchatAdapter extends PlatformAdapter {
  readonly channelId = NIMCHAT_CHANNEL_ID;
  readonly client: NimchatClient;
  private readonly actions: NimchatConversationActions;
  private readonly botStatuses: string[];

  constructor(private readonly options: NimchatAdapterOptions) {
    super('nimchat', options);
    this.botStatuses = options.botStatuses ?? ['pending'];
    this.client =
      options.client ??
      new NimchatClient(options.baseUrl, options.botToken, { metrics: options.metrics, logger: this.logger, clock: this.clock, ...options.http });
    this.actions = new NimchatConversationActions(this.client, {
      handoffTeamId: options.handoffTeamId,
      handoffAgentId: options.handoffAgentId,
    });
  }

  protected get serviceUrl(): string {
    return this.options.baseUrl;
  }

  // ---------------------------------------------------------------- incoming

  /** Authenticity, validation, dedupe, then the turn is queued and 200 returned. */
  async handleWebhook(input: WebhookInput, logic: BotLogic): Promise<WebhookResult> {
    this.options.metrics?.webhooksReceived.inc({ platform: 'nimchat' });
    const reject = this.reject.bind(this);

    if (this.options.webhookSecret) {
      const check = verifyNimchatSignature({
        secret: this.options.webhookSecret,
        rawBody: input.rawBody,
        signature: header(input.headers, 'x-chatwoot-signature'),
        timestamp: header(input.headers, 'x-chatwoot-timestamp'),
        nowSeconds: Math.floor(this.clock.now() / 1000),
      });
      if (!check.ok) return reject(401, check.code, check.message);
    }

    const json = this.parseJson(input);
    if ('refused' in json) return json.refused;
    const body = json.body;

    if (this.options.urlTokenSecret) {
      const check = verifyUrlToken(this.options.urlTokenSecret, input.query.get('token') ?? undefined);
      if (!check.ok) return reject(401, check.code, check.message);
      const scope = webhookScope(body);
      if (scope.account !== check.claims.account || (check.claims.inbox !== undefined && scope.inbox !== undefined && scope.inbox !== check.claims.inbox)) {
        return reject(401, 'nimchat_url_token_mismatch', 'the payload does not belong to the account/inbox of the token');
      }
    }

    const parsed = this.parsePayload('a Nimchat webhook', () => planIncoming(parseNimchatWebhook(body), { baseUrl: this.options.baseUrl }));
    if ('refused' in parsed) return parsed.refused;
    const plan = parsed.value;

    const delivery = header(input.headers, 'x-chatwoot-delivery');
    if (!('conversationId' in plan)) {
      this.logger.debug('webhook acknowledged without a turn', { reason: plan.ignored });
      return { status: 200, body: { ok: true, ignored: plan.ignored } };
    }
    const keys = [...(delivery ? [`nimchat:delivery:${delivery}`] : []), ...plan.dedupeKeys.map((k) => `nimchat:${k}`)];
    // 500 is one of the two statuses Nimchat redelivers on.
    return this.accept({ conversationId: plan.conversationId, dedupeKeys: keys, redeliverStatus: 500, payload: { body } }, logic);
  }

  /** A stored event: planned again from its body (pure), then processed. */
  protected async processEvent(payload: unknown, logic: BotLogic): Promise<void> {
    const plan = planIncoming(parseNimchatWebhook((payload as { body: unknown }).body), { baseUrl: this.options.baseUrl });
    if ('conversationId' in plan) await this.processPlan(plan, logic);
  }

  /** Runs inside the conversation's queue: ownership first, then the turn. */
  private async processPlan(plan: IncomingPlan, logic: BotLogic): Promise<void> {
    let owner: Owner | undefined;
    if (plan.observation) {
      const { released, record } = await this.observe(plan.conversationId, plan.observation);
      owner = record.owner;
      if (released) {
        const reference = TurnContext.getConversationReference(plan.activity);
        await this.runTurn(statusActivity(reference, { state: 'completed', message: 'The conversation is back with the bot.' }), logic, { owner });
      }
    }
    await this.runTurn(plan.activity, logic, { owner });
  }

  /** Applies an observation to the stored ownership; says whether it returned the conversation to the bot. */
  private async observe(conversationId: string, observation: NimchatObservation): Promise<{ released: boolean; record: { owner: Owner } }> {
    const current = await this.ownership.get(NIMCHAT_CHANNEL_ID, conversationId);
    const decision = decideOwnership(current, observation, this.botStatuses);
    if (decision.changed) await this.ownership.set(NIMCHAT_CHANNEL_ID, conversationId, decision.record);
    if (decision.transition) {
      this.logger.info(decision.transition === 'released' ? 'conversation returned to the bot' : 'a human owns the conversation', {
        conversationId,
        status: decision.record.platformStatus,
        reason: decision.record.reason,
      });
    }
    return { released: decision.transition === 'released', record: decision.record };
  }

  // ---------------------------------------------------------------- outgoing

  protected parseKey(conversationId: string): NimchatConversationKey {
    return parseConversationId(conversationId);
  }

  protected override async sendTyping(activity: Partial<Activity>): Promise<void> {
    const key = this.parseKey(this.conversationIdOf(activity));
    await this.client.toggleTyping(key.accountId, key.conversationId, true).catch((error: unknown) => {
      this.logger.debug('typing indicator failed', { error });
    });
  }

  protected async sendMessage(activity: Partial<Activity>): Promise<ResourceResponse> {
    const key = this.parseKey(this.conversationIdOf(activity));
    let firstId: string | undefined;
    for (const plan of toNimchatMessages(activity)) {
      const created =
        plan.files.length === 0
          ? await this.client.createMessage(key.accountId, key.conversationId, plan.message)
          : await this.client.createMessageWithFiles(key.accountId, key.conversationId, plan.message, await Promise.all(plan.files.map((f) => this.resolveFile(f))));
      firstId ??= String(created.id);
    }
    return { id: firstId ?? '' };
  }

  private async resolveFile(file: FileSource): Promise<OutgoingFile> {
    if (file.data) return { name: file.name, contentType: file.contentType, data: file.data };
    const url = file.url ?? '';
    const decoded = decodeDataUri(url);
    if (decoded) return { name: file.name, contentType: file.contentType === 'application/octet-stream' ? decoded.contentType : file.contentType, data: decoded.data };
    if (!/^https?:\/\//i.test(url)) throw new InvalidRequestError('nimchat_attachment_invalid', `attachment "${file.name}" has an unsupported URL`);
    const fetched = this.options.fetchFile ? await this.options.fetchFile(url) : await downloadFile(url);
    const contentType = file.contentType === 'application/octet-stream' && fetched.contentType ? fetched.contentType : file.contentType;
    return { name: file.name, contentType, data: fetched.data };
  }

  /** `handoff.initiate` → the Nimchat handoff; the outcome reaches the bot as `handoff.status`. */
  protected executeHandoff(conversationId: string, request: HandoffRequestValue, note: string): Promise<void> {
    return this.actions.handoff(this.parseKey(conversationId), request, note);
  }

  protected async handoffSucceeded(conversationId: string): Promise<string> {
    const current = await this.ownership.get(NIMCHAT_CHANNEL_ID, conversationId);
    await this.ownership.set(NIMCHAT_CHANNEL_ID, conversationId, { owner: 'human', reason: 'handoff', platformStatus: 'open', observedAt: current?.observedAt });
    this.logger.info('handoff done', { conversationId });
    return 'The conversation was handed to a human agent.';
  }

  protected parseControl(value: unknown): ConversationControlValue {
    return parseNimchatControl(value);
  }

  protected executeControl(conversationId: string, control: ConversationControlValue): Promise<void> {
    return this.actions.control(this.parseKey(conversationId), control);
  }

  async updateActivity(): Promise<ResourceResponse | void> {
    throw new NotSupportedError('nimchat', 'updating a sent message');
  }

  async deleteActivity(): Promise<void> {
    throw new NotSupportedError('nimchat', 'deleting a sent message');
  }

}

async function downloadFile(url: string): Promise<{ data: Buffer; contentType?: string }> {
  try {
    const res = await axios.get<ArrayBuffer>(url, { responseType: 'arraybuffer', timeout: 15_000, maxContentLength: MAX_DOWNLOAD_BYTES, maxRedirects: 5 });
    const type = res.headers['content-type'];
    return { data: Buffer.from(res.data), contentType: typeof type === 'string' ? type.split(';')[0] : undefined };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidRequestError('nimchat_attachment_download_failed', `could not download the attachment ${new URL(url).host}: ${reason}`);
  }
}
