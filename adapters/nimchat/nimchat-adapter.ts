/**
 * NimchatAdapter: the pipeline only. Webhook in → authenticity → validation → dedupe → 200 at once →
 * the turn on the conversation's queue. Bot activities out → Nimchat API calls.
 */
import axios from 'axios';
import { ActivityTypes, TurnContext, type Activity, type ConversationReference, type ResourceResponse } from 'botbuilder-core';
import type { ConversationControlValue, HandoffRequestValue } from '../../dialogs/control-schemas';
import { InvalidRequestError, NotSupportedError } from '../../src/errors';
import { header, type WebhookInput, type WebhookResult } from '../../src/http/webhook-io';
import type { Owner } from '../../src/ownership';
import { PlatformAdapter, statusActivity, type BotLogic, type PlatformAdapterOptions } from '../../src/platform-adapter';
import { ConversationEvents, HandoffEvents } from '../../dialogs/event-names';
import { NimchatClient, type HttpOptions, type OutgoingFile } from './client';
import { NimchatConversationActions, parseHandoffRequest, parseNimchatControl } from './conversation-actions';
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

/** What the outbox keeps of a handoff (JSON). */
interface HandoffAction {
  conversationId: string;
  reference: Partial<ConversationReference>;
  request: HandoffRequestValue;
  note: string;
}

interface ControlAction {
  conversationId: string;
  reference: Partial<ConversationReference>;
  control: ConversationControlValue;
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
    this.registerActions();
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

  protected async sendOne(context: TurnContext, activity: Partial<Activity>): Promise<ResourceResponse> {
    switch (activity.type) {
      case ActivityTypes.Message:
        return this.sendMessage(this.keyOf(activity), activity);
      case ActivityTypes.Typing: {
        const key = this.keyOf(activity);
        await this.client.toggleTyping(key.accountId, key.conversationId, true).catch((error: unknown) => {
          this.logger.debug('typing indicator failed', { error });
        });
        return { id: '' };
      }
      case 'delay':
        await this.clock.sleep(typeof activity.value === 'number' ? activity.value : 1000);
        return { id: '' };
      case ActivityTypes.Trace:
        return { id: '' };
      case ActivityTypes.Event:
        if (activity.name === HandoffEvents.Initiate) return this.initiateHandoff(context, activity);
        if (activity.name === ConversationEvents.Control) {
          this.keyOf(activity);
          const control = parseNimchatControl(activity.value);
          const conversationId = activity.conversation!.id;
          this.defaultLogic ??= this.logicOf(context);
          const payload: ControlAction = { conversationId, reference: TurnContext.getConversationReference(context.activity), control };
          await this.runAction('control', conversationId, payload);
          return { id: '' };
        }
        throw new NotSupportedError('nimchat', `sending the event "${activity.name ?? ''}"`);
      default:
        throw new NotSupportedError('nimchat', `sending activities of type "${activity.type ?? ''}"`);
    }
  }

  private keyOf(activity: Partial<Activity>): NimchatConversationKey {
    const id = activity.conversation?.id;
    if (!id) throw new InvalidRequestError('nimchat_conversation_missing', 'the activity has no conversation id');
    return parseConversationId(id);
  }

  private async sendMessage(key: NimchatConversationKey, activity: Partial<Activity>): Promise<ResourceResponse> {
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
  private async initiateHandoff(context: TurnContext, activity: Partial<Activity>): Promise<ResourceResponse> {
    this.keyOf(activity);
    const request = parseHandoffRequest(activity.value);
    const conversationId = activity.conversation!.id;
    const transcript = await this.transcriptText(activity, conversationId);
    const note = [`Handoff requested${request.reason ? `: ${request.reason}` : ''}`, '', 'Transcript:', transcript || '(no messages)'].join('\n');
    const payload: HandoffAction = { conversationId, reference: TurnContext.getConversationReference(context.activity), request, note };
    this.defaultLogic ??= this.logicOf(context);
    // Durable first, then the first attempt; the outcome reaches the bot as `handoff.status`.
    await this.runAction('handoff', conversationId, payload);
    return { id: '' };
  }

  /** Handoff and control as outbox actions: retried across restarts, the outcome told to the bot. */
  private registerActions(): void {
    this.registerAction('handoff', {
      execute: (payload) => {
        const p = payload as HandoffAction;
        return this.actions.handoff(parseConversationId(p.conversationId), parseHandoffRequest(p.request), p.note);
      },
      succeeded: async (payload) => {
        const { conversationId, reference } = payload as HandoffAction;
        const current = await this.ownership.get(NIMCHAT_CHANNEL_ID, conversationId);
        await this.ownership.set(NIMCHAT_CHANNEL_ID, conversationId, { owner: 'human', reason: 'handoff', platformStatus: 'open', observedAt: current?.observedAt });
        this.logger.info('handoff done', { conversationId });
        this.reportHandoffStatus(reference, { state: 'accepted', message: 'The conversation was handed to a human agent.' }, this.defaultLogic);
      },
      failed: async (payload, message) => {
        const { conversationId, reference } = payload as HandoffAction;
        this.logger.error('handoff failed', { conversationId, reason: message });
        this.reportHandoffStatus(reference, { state: 'failed', message }, this.defaultLogic);
      },
    });
    this.registerAction('control', {
      execute: (payload) => {
        const p = payload as ControlAction;
        return this.actions.control(parseConversationId(p.conversationId), parseNimchatControl(p.control));
      },
      succeeded: async () => undefined,
      failed: async (payload, message) => {
        const { reference } = payload as ControlAction;
        this.reportHandoffStatus(reference, { state: 'failed', message: `conversation.control failed: ${message}` }, this.defaultLogic);
      },
    });
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
