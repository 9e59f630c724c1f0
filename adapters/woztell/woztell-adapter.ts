/**
 * WoztellAdapter: the pipeline only. Channel webhook in → signature → validation → classification →
 * dedupe → 200 at once → the member's turn on the conversation queue. Bot activities out → Bot API
 * `sendResponses`; handoff and control → the Inbox integration API ("inbox logic").
 */
import { createHash } from 'node:crypto';
import { TurnContext, type Activity, type ResourceResponse, type StoreItem } from 'botbuilder-core';
import { HandoffError, NotSupportedError } from '../../src/errors';
import { header, type WebhookInput, type WebhookResult } from '../../src/http/webhook-io';
import type { Owner, OwnershipRecord } from '../../src/ownership';
import { PlatformAdapter, statusActivity, type BotLogic, type PlatformAdapterOptions } from '../../src/platform-adapter';
import type { ConversationControlValue, HandoffRequestValue } from '../../dialogs/control-schemas';
import { WoztellBotClient, WoztellInboxClient, configuredInboxCredentials, WoztellOpenApiClient, type HttpOptions, type InboxCredentials, type InboxPaths } from './client';
import { WoztellConversationActions, parseWoztellControl, type HandoffOutcome } from './conversation-actions';
import { WOZTELL_CHANNEL_ID, parseConversationId, type WoztellConversationKey } from './conversation-ref';
import { planIncoming, type WoztellIncomingPlan } from './convert-incoming';
import { isNumberedReply, matchNumberedChoice, toWoztellResponses, type Choice } from './convert-outgoing';
import { decideRelease, type ThreadObservation } from './ownership-rules';
import { parseWoztellWebhook, type InboxThread } from './schemas';
import { verifyWoztellSignature } from './verify';

export interface WoztellAdapterOptions extends PlatformAdapterOptions {
  accessToken: string;
  /** The channel's webhook HMAC key. */
  channelSecret: string;
  botApiUrl: string;
  openApiUrl: string;
  inboxApiUrl: string;
  /** Inbox integration credentials; looked up through the Open API when any is missing. */
  appId?: string;
  appIntegrationId?: string;
  inboxSignature?: string;
  /** Folder a handoff moves the thread to (default `main`). */
  handoffFolder?: string;
  /** Moving the thread here hands the member back to the bot. */
  botFolder?: string;
  /** Where a ticket close-out moves the thread; also hands the member back. */
  resolvedFolder?: string;
  handoffAgentId?: string;
  /** Choices as WhatsApp reply buttons (default true); numbered text when false or when they do not fit. */
  replyButtons?: boolean;
  /** How long a release lookup is reused for the same member (default 10 s). */
  releaseCheckCacheMs?: number;
  /** Also ask the Open API for the member's live-chat flag on a release check (default true). */
  checkLiveChat?: boolean;
  /** The bot takes a member back after this long without a human signal (default: never). */
  humanTimeoutMs?: number;
  inboxPaths?: Partial<InboxPaths>;
  http?: HttpOptions;
}

interface CachedLookup {
  until: number;
  observation: Omit<ThreadObservation, 'now'>;
}

interface StoredChoices extends StoreItem {
  choices: Choice[];
}

const MAX_CACHED_LOOKUPS = 10_000;

export class WoztellAdapter extends PlatformAdapter {
  readonly channelId = WOZTELL_CHANNEL_ID;
  readonly bot: WoztellBotClient;
  readonly openApi: WoztellOpenApiClient;
  readonly inbox: WoztellInboxClient;
  private readonly actions: WoztellConversationActions;
  private readonly lookups = new Map<string, CachedLookup>();

  constructor(private readonly options: WoztellAdapterOptions) {
    super('woztell', options);
    const http = { metrics: options.metrics, logger: this.logger, clock: this.clock, ...options.http };
    this.bot = new WoztellBotClient(options.botApiUrl, options.accessToken, http);
    this.openApi = new WoztellOpenApiClient(options.openApiUrl, options.accessToken, http);
    this.inbox = new WoztellInboxClient(options.inboxApiUrl, () => this.inboxCredentials(), { ...http, paths: options.inboxPaths });
    this.actions = new WoztellConversationActions(this.inbox, {
      handoffFolder: options.handoffFolder ?? 'main',
      handoffAgentId: options.handoffAgentId,
    });
  }

  protected get serviceUrl(): string {
    return this.options.botApiUrl;
  }

  /** The configured credentials, or the installed inbox integration found through the Open API. */
  async inboxCredentials(): Promise<InboxCredentials> {
    const configured = configuredInboxCredentials(this.options);
    if (configured) return configured;
    const found = await this.openApi.findInboxCredentials(this.options.appId);
    if (!found) {
      throw new HandoffError(
        'woztell_inbox_not_installed',
        'no installed "inbox" integration was found through the Open API: install the Inbox, or set WOZTELL_APP_ID, WOZTELL_APP_INTEGRATION_ID and WOZTELL_INBOX_SIGNATURE',
      );
    }
    return found;
  }

  // ---------------------------------------------------------------- incoming

  async handleWebhook(input: WebhookInput, logic: BotLogic): Promise<WebhookResult> {
    this.options.metrics?.webhooksReceived.inc({ platform: 'woztell' });
    const check = verifyWoztellSignature(this.options.channelSecret, input.rawBody, header(input.headers, 'x-woztell-signature'));
    if (!check.ok) return this.reject(401, check.code, check.message);

    const json = this.parseJson(input);
    if ('refused' in json) return json.refused;
    const bodyHash = createHash('sha256').update(input.rawBody).digest('hex');
    const parsed = this.parsePayload('a WOZTELL webhook', () => planIncoming(parseWoztellWebhook(json.body), { botApiUrl: this.options.botApiUrl, bodyHash }));
    if ('refused' in parsed) return parsed.refused;
    const plan = parsed.value;
    if ('ignored' in plan) {
      this.logger.debug('webhook acknowledged without a turn', { reason: plan.ignored });
      return { status: 200, body: { ok: true, ignored: plan.ignored } };
    }
    const keys = plan.dedupeKeys.map((k) => `woztell:${k}`);
    return this.accept({ conversationId: plan.conversationId, dedupeKeys: keys, payload: { body: json.body, bodyHash } }, logic);
  }

  /** A stored event: planned again from its body (pure), then processed. */
  protected async processEvent(payload: unknown, logic: BotLogic): Promise<void> {
    const { body, bodyHash } = payload as { body: unknown; bodyHash: string };
    const plan = planIncoming(parseWoztellWebhook(body), { botApiUrl: this.options.botApiUrl, bodyHash });
    if (!('ignored' in plan)) await this.processPlan(plan, logic);
  }

  /** Runs inside the member's queue slot. */
  private async processPlan(plan: WoztellIncomingPlan, logic: BotLogic): Promise<void> {
    if (plan.kind === 'agent') {
      await this.humanTookOver(plan);
      await this.runTurn(plan.activity, logic, { owner: 'human' });
      return;
    }
    await this.applyNumberedChoice(plan);
    let owner: Owner = 'bot';
    const record = await this.ownership.get(WOZTELL_CHANNEL_ID, plan.conversationId);
    if (record && record.owner !== 'bot') {
      owner = record.owner;
      if (owner === 'human' && (await this.checkRelease(plan, record))) {
        owner = 'bot';
        const reference = TurnContext.getConversationReference(plan.activity);
        await this.runTurn(statusActivity(reference, { state: 'completed', message: 'The member is back with the bot.' }), logic, { owner });
      }
    }
    await this.runTurn(plan.activity, logic, { owner });
  }

  /** An agent's message from the Inbox: the member is with a human from now on. */
  private async humanTookOver(plan: WoztellIncomingPlan): Promise<void> {
    const current = await this.ownership.get(WOZTELL_CHANNEL_ID, plan.conversationId);
    const details = { ...current?.details, ...(plan.agentUserId ? { agent: plan.agentUserId } : {}) };
    await this.ownership.set(WOZTELL_CHANNEL_ID, plan.conversationId, {
      owner: 'human',
      reason: current?.owner === 'human' ? current.reason : 'agent_message',
      platformStatus: current?.platformStatus,
      observedAt: this.clock.now(),
      details,
    });
    this.lookups.delete(plan.conversationId);
    if (current?.owner !== 'human') this.logger.info('a human owns the conversation', { conversationId: plan.conversationId, reason: 'agent_message' });
  }

  /** Looks the thread up (briefly cached) and applies the release rules; true when released. */
  private async checkRelease(plan: WoztellIncomingPlan, record: OwnershipRecord): Promise<boolean> {
    const key = parseConversationId(plan.conversationId);
    const now = this.clock.now();
    let cached = this.lookups.get(plan.conversationId);
    if (!cached || cached.until <= now) {
      let observation: CachedLookup['observation'];
      try {
        observation = await this.lookUp(key, plan.activity);
      } catch (error) {
        // The member stays with the human: a wrong "released" would have the bot talk over them.
        this.logger.warn('release check failed; the member stays with the human', { conversationId: plan.conversationId, error });
        return false;
      }
      cached = { until: now + (this.options.releaseCheckCacheMs ?? 10_000), observation };
      if (this.lookups.size >= MAX_CACHED_LOOKUPS) this.lookups.delete(this.lookups.keys().next().value!);
      this.lookups.set(plan.conversationId, cached);
    }
    const decision = decideRelease(record, { ...cached.observation, now }, {
      releaseFolders: [this.options.botFolder, this.options.resolvedFolder].filter((f): f is string => !!f),
      humanTimeoutMs: this.options.humanTimeoutMs,
    });
    if (decision.record) await this.ownership.set(WOZTELL_CHANNEL_ID, plan.conversationId, decision.record);
    if (decision.release) {
      this.lookups.delete(plan.conversationId);
      this.logger.info('conversation returned to the bot', { conversationId: plan.conversationId, reason: decision.reason });
    }
    return decision.release;
  }

  private async lookUp(key: WoztellConversationKey, activity: Partial<Activity>): Promise<CachedLookup['observation']> {
    const thread: InboxThread | undefined = await this.inbox.findThread({ memberId: key.memberId, channelId: key.channelId });
    const externalId = (activity.from?.properties as { externalId?: string } | undefined)?.externalId;
    let liveChat: boolean | undefined;
    if (this.options.checkLiveChat !== false && externalId) {
      liveChat = await this.openApi.memberLiveChat(key.channelId, externalId).catch((error: unknown) => {
        this.logger.debug('live-chat flag unavailable', { error });
        return undefined;
      });
    }
    return { thread, liveChat };
  }

  /** "2" after numbered choices means the second choice: the bot sees its value, as with a button. */
  private async applyNumberedChoice(plan: WoztellIncomingPlan): Promise<void> {
    // Most messages are not a bare number: spare them the read.
    if (!isNumberedReply(plan.activity.text)) return;
    const key = choicesKey(plan.conversationId);
    const stored = (await this.options.storage.read([key]))[key] as StoredChoices | undefined;
    const choice = matchNumberedChoice(plan.activity.text, stored?.choices);
    if (!choice) return;
    plan.activity.value = choice.value;
    plan.activity.text = choice.value;
  }

  // ---------------------------------------------------------------- outgoing

  protected parseKey(conversationId: string): WoztellConversationKey {
    return parseConversationId(conversationId);
  }

  protected async sendMessage(activity: Partial<Activity>): Promise<ResourceResponse> {
    const key = this.parseKey(this.conversationIdOf(activity));
    const plan = toWoztellResponses(activity, { replyButtons: this.options.replyButtons !== false });
    const result = await this.bot.sendResponses({ channelId: key.channelId, memberId: key.memberId, response: plan.items });
    const storeKey = choicesKey(activity.conversation!.id);
    if (plan.numberedChoices) await this.options.storage.write({ [storeKey]: { choices: plan.numberedChoices, eTag: '*' } });
    return { id: readMessageId(result) ?? `woztell:${this.clock.now()}` };
  }

  protected executeHandoff(conversationId: string, request: HandoffRequestValue, note: string): Promise<HandoffOutcome> {
    return this.actions.handoff(this.parseKey(conversationId), request, note);
  }

  protected async handoffSucceeded(conversationId: string, result: unknown): Promise<string> {
    const outcome = result as HandoffOutcome;
    await this.ownership.set(WOZTELL_CHANNEL_ID, conversationId, {
      owner: 'human',
      reason: 'handoff',
      platformStatus: outcome.folder,
      observedAt: this.clock.now(),
      details: outcome.assignee ? { assignee: outcome.assignee } : {},
    });
    this.lookups.delete(conversationId);
    this.logger.info('handoff done', { conversationId, folder: outcome.folder, assigned: outcome.assignee !== undefined, warnings: outcome.warnings });
    return 'The conversation was handed to the WOZTELL Inbox.';
  }

  protected parseControl(value: unknown): ConversationControlValue {
    return parseWoztellControl(value);
  }

  protected executeControl(conversationId: string, control: ConversationControlValue): Promise<void> {
    return this.actions.control(this.parseKey(conversationId), control);
  }

  protected override async controlSucceeded(conversationId: string): Promise<void> {
    this.lookups.delete(conversationId);
  }

  async updateActivity(): Promise<ResourceResponse | void> {
    throw new NotSupportedError('woztell', 'updating a sent message');
  }

  async deleteActivity(): Promise<void> {
    throw new NotSupportedError('woztell', 'deleting a sent message');
  }
}

function choicesKey(conversationId: string): string {
  return `woztell/choices/${conversationId}`;
}

/** The first message id in a `sendResult`, whatever its shape. */
function readMessageId(result: unknown): string | undefined {
  const first = Array.isArray(result) ? result[0] : result;
  if (first && typeof first === 'object') {
    const o = first as Record<string, unknown>;
    for (const k of ['messageId', 'message_id', 'id']) if (typeof o[k] === 'string' && o[k]) return o[k];
  }
  return undefined;
}
