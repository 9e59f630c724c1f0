/**
 * WOZTELL's answers to the pipeline: the channel signature, the plan of a channel webhook, the
 * release check when a human's member writes (a thread lookup: WOZTELL pushes no folder or assignee
 * changes), numbered choices, and the Bot API / Inbox API calls for replies, handoffs and control.
 */
import { createHash } from 'node:crypto';
import type { Activity, Storage, StoreItem } from 'botbuilder-core';
import type { ConversationControl, HandoffRequest } from '../../src/control/vocabulary';
import { HandoffError } from '../../src/errors';
import { header, type WebhookInput } from '../../src/http/webhook-io';
import { platformKey, scopedId } from '../../src/tenants/tenant-scope';
import { OUTBOX_CALLS } from '../../src/http/retry-policy';
import type { Logger } from '../../src/log';
import type { OwnershipRecord } from '../../src/ownership';
import type { Connector, HandoffResult, PlannedEvent, PlanResult, Refusal, StepProgress } from '../../src/pipeline/connector';
import type { PipelineRuntime } from '../../src/pipeline/pipeline-runtime';
import type { Clock } from '../../src/clock';
import type { SentMessages } from '../../src/outbox/sent-messages';
import { WoztellBotClient, WoztellInboxClient, configuredInboxCredentials, WoztellOpenApiClient, type HttpOptions, type InboxCredentials, type InboxPaths } from './client';
import { WoztellConversationActions, parseWoztellControl } from './conversation-actions';
import { WOZTELL_CHANNEL_ID, parseConversationId } from './conversation-ref';
import { planIncoming } from './convert-incoming';
import { itemFingerprint, joinMessageIds, splitMessageIds } from './message-fingerprint';
import { isNumberedReply, matchNumberedChoice, toWoztellResponses, type Choice } from './convert-outgoing';
import { releaseEvents, type ThreadObservation } from './ownership-rules';
import { parseWoztellWebhook } from './schemas';
import { verifyWoztellSignature } from './verify';

export interface WoztellConnectorOptions {
  /** The tenant served (its ids scoped by the adapter); none: the configuration from the environment. */
  tenant?: string;
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
  /** Where a `reroute` control (nobody answered) moves the thread. */
  fallbackFolder?: string;
  /** Choices as WhatsApp reply buttons (default true); numbered text when false or when they do not fit. */
  replyButtons?: boolean;
  /** Also ask the Open API for the member's live-chat flag on a release check (default true). */
  checkLiveChat?: boolean;
  /** The bot takes a member back after this long without a human signal (default: never). */
  humanTimeoutMs?: number;
  inboxPaths?: Partial<InboxPaths>;
  http?: HttpOptions;
}

interface StoredChoices extends StoreItem {
  choices: Choice[];
}

export class WoztellConnector implements Connector {
  readonly platform = 'woztell';
  readonly channelId = WOZTELL_CHANNEL_ID;
  readonly redeliverStatus = 503;
  /** Reply buttons (3 short titles), else numbered choices whose number is read back as the choice. */
  readonly nativeChoices = { maxActions: 10, maxTitleLength: 100 };
  /** WhatsApp, Messenger and Instagram deliver free-form messages only within 24 h of the customer's last one. */
  readonly satisfaction = { replyWindowMs: 24 * 3600_000 };
  readonly bot: WoztellBotClient;
  readonly openApi: WoztellOpenApiClient;
  /** The WOZTELL Inbox integration API (threads, folders, agents, notes). */
  readonly inboxApi: WoztellInboxClient;
  private readonly actions: WoztellConversationActions;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly storage: Storage;
  private readonly sent: SentMessages;
  /** What the bot's echoes are kept under: `woztell`, or a tenant's `woztell@<tenant>`. */
  private readonly sentKey: string;

  constructor(
    private readonly options: WoztellConnectorOptions,
    runtime: PipelineRuntime,
  ) {
    this.logger = runtime.logger.child({ platform: 'woztell', ...(options.tenant ? { tenant: options.tenant } : {}) });
    this.clock = runtime.clock;
    this.storage = runtime.storage;
    this.sent = runtime.sent;
    this.sentKey = platformKey(this.platform, options.tenant);
    const http = { metrics: runtime.metrics, logger: this.logger, clock: this.clock, tenant: options.tenant, ...options.http };
    // The outbox's calls (replies, handoffs, controls) are retried by the outbox alone; the lookups a
    // turn makes (the thread, live chat) keep the client's own short retries.
    const outboxHttp = { ...http, retry: { ...options.http?.retry, ...OUTBOX_CALLS } };
    this.bot = new WoztellBotClient(options.botApiUrl, options.accessToken, outboxHttp);
    this.openApi = new WoztellOpenApiClient(options.openApiUrl, options.accessToken, http);
    this.inboxApi = new WoztellInboxClient(options.inboxApiUrl, () => this.inboxCredentials(), { ...http, paths: options.inboxPaths });
    const outboxInbox = new WoztellInboxClient(options.inboxApiUrl, () => this.inboxCredentials(), { ...outboxHttp, paths: options.inboxPaths });
    this.actions = new WoztellConversationActions(outboxInbox, {
      handoffFolder: options.handoffFolder ?? 'main',
      handoffAgentId: options.handoffAgentId,
      fallbackFolder: options.fallbackFolder,
      releaseFolders: [options.botFolder, options.resolvedFolder].filter((f): f is string => !!f),
    });
  }

  get serviceUrl(): string {
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

  authenticate(input: WebhookInput): { refused: Refusal } | { claims?: Record<string, unknown> } {
    const check = verifyWoztellSignature(this.options.channelSecret, input.rawBody, header(input.headers, 'x-woztell-signature'));
    return check.ok ? {} : { refused: { status: 401, code: check.code, message: check.message } };
  }

  plan(body: unknown, input: WebhookInput): PlanResult {
    const bodyHash = createHash('sha256').update(input.rawBody).digest('hex');
    const plan = planIncoming(parseWoztellWebhook(body), { botApiUrl: this.options.botApiUrl, bodyHash, now: this.clock.now() });
    if ('ignored' in plan) return { ignored: plan.ignored, echo: plan.echo };
    return {
      event: {
        conversationId: plan.conversationId,
        dedupeKeys: plan.dedupeKeys.map((k) => `woztell:${k}`),
        ownership: plan.kind === 'agent' ? [{ type: 'agent_message', agent: plan.agentUserId, observedAt: this.clock.now() }] : [],
        activity: plan.activity,
      },
    };
  }

  /** A numbered answer becomes its choice; a human's member is checked for a release (looked up every time: a stale "still human" would swallow the message). */
  async prepare(event: PlannedEvent, current: OwnershipRecord | undefined): Promise<PlannedEvent> {
    if (event.activity.type !== 'message') return event;
    await this.applyNumberedChoice(event);
    if (current?.owner !== 'human') return event;
    let observation: ThreadObservation;
    try {
      observation = { ...(await this.lookUp(event)), now: this.clock.now() };
    } catch (error) {
      // The member stays with the human: a wrong "released" would have the bot talk over them.
      this.logger.warn('release check failed; the member stays with the human', { conversationId: event.conversationId, error });
      return event;
    }
    const events = releaseEvents(current, observation, {
      releaseFolders: [this.options.botFolder, this.options.resolvedFolder].filter((f): f is string => !!f),
      humanTimeoutMs: this.options.humanTimeoutMs,
    });
    return events.length > 0 ? { ...event, ownership: [...event.ownership, ...events] } : event;
  }

  private async lookUp(event: PlannedEvent): Promise<Omit<ThreadObservation, 'now'>> {
    const key = parseConversationId(event.conversationId);
    const thread = await this.inboxApi.findThread({ memberId: key.memberId, channelId: key.channelId });
    const externalId = (event.activity.from?.properties as { externalId?: string } | undefined)?.externalId;
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
  private async applyNumberedChoice(event: PlannedEvent): Promise<void> {
    // Most messages are not a bare number: spare them the read.
    if (!isNumberedReply(event.activity.text)) return;
    const key = choicesKey(scopedId(this.options.tenant, event.conversationId));
    const stored = (await this.storage.read([key]))[key] as StoredChoices | undefined;
    const choice = matchNumberedChoice(event.activity.text, stored?.choices);
    if (!choice) return;
    event.activity.value = choice.value;
    event.activity.text = choice.value;
  }

  checkConversationId(conversationId: string): void {
    parseConversationId(conversationId);
  }

  /**
   * One `sendResponses` call; resolves with the ids of the messages it created, space-separated. When an
   * earlier attempt may have been carried out, the echo of its first message is looked for first.
   */
  async sendMessage(activity: Partial<Activity>, progress?: StepProgress): Promise<string> {
    const conversationId = activity.conversation?.id ?? '';
    const key = parseConversationId(conversationId);
    const plan = toWoztellResponses(activity, { replyButtons: this.options.replyButtons !== false });
    // WOZTELL's ids do not grow: an earlier action's messages are ruled out by their ids, all of them.
    const looked = await this.sent.earlierSends(progress, this.sentKey, conversationId, plan.items.map(itemFingerprint), { idsOf: splitMessageIds });
    const sentBefore: string[] = [];
    for (const id of looked ?? []) if (id !== undefined) sentBefore.push(id);
    // An earlier attempt that stopped part-way: the rest of its items go now, in their order.
    const rest = plan.items.slice(sentBefore.length);
    let ids = sentBefore;
    if (rest.length > 0) {
      const created = readMessageIds(await this.bot.sendResponses({ channelId: key.channelId, memberId: key.memberId, response: rest }));
      // Bookkeeping only: the messages exist, whatever happens to this.
      for (const id of created) await this.sent.confirmed(this.sentKey, conversationId, id).catch(() => undefined);
      ids = [...sentBefore, ...created];
    }
    const sent = ids.length > 0 ? joinMessageIds(ids) : `woztell:${this.clock.now()}`;
    // Also when an earlier attempt sent them: it may have stopped before this.
    if (plan.numberedChoices) await this.storage.write({ [choicesKey(scopedId(this.options.tenant, conversationId))]: { choices: plan.numberedChoices, eTag: '*' } });
    return sent;
  }

  parseControl(value: unknown): ConversationControl {
    return parseWoztellControl(value);
  }

  async handoff(conversationId: string, request: HandoffRequest, note: string, progress: StepProgress): Promise<HandoffResult> {
    const outcome = await this.actions.handoff(parseConversationId(conversationId), request, note, progress);
    this.logger.info('handoff carried out', { conversationId, folder: outcome.folder, assigned: outcome.assignee !== undefined, warnings: outcome.warnings });
    return { platformStatus: outcome.folder, details: outcome.assignee ? { assignee: outcome.assignee } : undefined, observedAt: this.clock.now(), message: 'The conversation was handed to the WOZTELL Inbox.' };
  }

  control(conversationId: string, control: ConversationControl, progress: StepProgress): Promise<void> {
    return this.actions.control(parseConversationId(conversationId), control, progress);
  }
}

function choicesKey(conversationId: string): string {
  return `woztell/choices/${conversationId}`;
}

/** The message ids in a `sendResult`, in order, whatever its shape. */
function readMessageIds(result: unknown): string[] {
  const ids: string[] = [];
  for (const item of Array.isArray(result) ? result : [result]) {
    if (!item || typeof item !== 'object') continue;
    const o = item as Record<string, unknown>;
    const id = ['messageId', 'message_id', 'id'].map((k) => o[k]).find((v): v is string => typeof v === 'string' && v !== '' && !v.includes(' '));
    if (id) ids.push(id);
  }
  return ids;
}
