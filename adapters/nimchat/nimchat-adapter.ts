/**
 * NimchatAdapter: the pipeline only. Webhook in → authenticity → validation → dedupe → 200 at once →
 * the turn on the conversation's queue. Bot activities out → Nimchat API calls.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import axios from 'axios';
import {
  ActivityTypes,
  BotAdapter,
  TurnContext,
  type Activity,
  type ConversationReference,
  type ResourceResponse,
  type Storage,
} from 'botbuilder-core';
import { ZodError, z } from 'zod';
import { systemClock, type Clock } from '../../src/clock';
import { ConversationQueue } from '../../src/conversation-queue';
import { HandoffError, InvalidRequestError, NotSupportedError, WebhookRejectedError, unwrapTurnError } from '../../src/errors';
import { readWebhookInput, header, writeWebhookResult, errorBody, type WebhookInput, type WebhookResult } from '../../src/http/webhook-io';
import type { Metrics } from '../../src/metrics';
import { silentLogger, type Logger } from '../../src/log';
import { OwnershipStore, type Owner } from '../../src/ownership';
import type { DedupeStore } from '../../src/storage/dedupe-store';
import { currentTurnConversation, runInTurnScope } from '../../src/turn-scope';
import { ConversationEvents, HandoffEvents, type HandoffStatusValue } from '../../dialogs/event-names';
import { HandoffGateMiddleware } from '../../dialogs/handoff-gate';
import {
  StorageTranscriptStore,
  TranscriptCaptureMiddleware,
  formatTranscript,
  formatTranscriptActivities,
  type TranscriptStore,
} from '../../dialogs/transcript';
import { NimchatClient, type HttpOptions, type OutgoingFile } from './client';
import { NimchatConversationActions, parseHandoffRequest, parseNimchatControl } from './conversation-actions';
import { NIMCHAT_CHANNEL_ID, parseConversationId, type NimchatConversationKey } from './conversation-ref';
import { planIncoming, type IncomingPlan } from './convert-incoming';
import { decodeDataUri, toNimchatMessages, type FileSource } from './convert-outgoing';
import { decideOwnership, type NimchatObservation } from './ownership-rules';
import { parseNimchatWebhook } from './schemas';
import { verifyNimchatSignature, verifyUrlToken, webhookScope } from './verify';

export type BotLogic = (context: TurnContext) => Promise<void>;

export interface NimchatAdapterOptions {
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
  /** botbuilder Storage for ownership and transcripts (and the bot's own state). */
  storage: Storage;
  dedupe: DedupeStore;
  transcripts?: TranscriptStore;
  queue?: ConversationQueue;
  metrics?: Metrics;
  logger?: Logger;
  clock?: Clock;
  /** How long redeliveries are recognised (default 24 h). */
  dedupeTtlMs?: number;
  /** HTTP options of the Nimchat client (timeouts, retries). */
  http?: HttpOptions;
  client?: NimchatClient;
  /** Downloads an outgoing attachment given by URL. */
  fetchFile?: (url: string) => Promise<{ data: Buffer; contentType?: string }>;
}

const LOGIC_KEY = Symbol('nimchatBotLogic');
const MAX_DOWNLOAD_BYTES = 40 * 1024 * 1024;

export class NimchatAdapter extends BotAdapter {
  readonly channelId = NIMCHAT_CHANNEL_ID;
  readonly client: NimchatClient;
  readonly queue: ConversationQueue;
  readonly ownership: OwnershipStore;
  readonly transcripts: TranscriptStore;
  private readonly actions: NimchatConversationActions;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly botStatuses: string[];
  private readonly loggedErrors = new WeakSet<object>();
  /** The logic of the last webhook, used for turns the adapter starts itself (handoff.status). */
  private defaultLogic?: BotLogic;

  constructor(private readonly options: NimchatAdapterOptions) {
    super();
    this.logger = (options.logger ?? silentLogger).child({ platform: 'nimchat' });
    this.clock = options.clock ?? systemClock;
    this.botStatuses = options.botStatuses ?? ['pending'];
    this.queue = options.queue ?? new ConversationQueue();
    this.client =
      options.client ??
      new NimchatClient(options.baseUrl, options.botToken, { metrics: options.metrics, logger: this.logger, clock: this.clock, ...options.http });
    this.ownership = new OwnershipStore(options.storage);
    this.transcripts = options.transcripts ?? new StorageTranscriptStore(options.storage);
    this.actions = new NimchatConversationActions(this.client, {
      handoffTeamId: options.handoffTeamId,
      handoffAgentId: options.handoffAgentId,
    });
    // Order matters: count failures of everything, record the transcript before the gate can stop a turn.
    this.use({ onTurn: (context, next) => this.countTurnErrors(context, next) });
    this.use(new TranscriptCaptureMiddleware(this.transcripts));
    this.use(new HandoffGateMiddleware(this.ownership));
  }

  // ---------------------------------------------------------------- incoming

  /** HTTP entry (botbuilder's `process(req, res, logic)` convention). */
  async process(req: IncomingMessage & { rawBody?: Buffer | string }, res: ServerResponse, logic: BotLogic): Promise<void> {
    let input: WebhookInput;
    try {
      input =
        req.rawBody !== undefined
          ? {
              method: req.method ?? 'POST',
              headers: req.headers,
              rawBody: Buffer.isBuffer(req.rawBody) ? req.rawBody : Buffer.from(req.rawBody),
              query: new URL(req.url ?? '/', 'http://localhost').searchParams,
            }
          : await readWebhookInput(req);
    } catch (error) {
      if (error instanceof WebhookRejectedError) {
        this.options.metrics?.webhooksReceived.inc({ platform: 'nimchat' });
        writeWebhookResult(res, this.reject(error.status, error.code, error.message));
        return;
      }
      throw error;
    }
    writeWebhookResult(res, await this.handleWebhook(input, logic));
  }

  /** Transport-free entry: authenticity, validation, dedupe, then the turn is queued and 200 returned. */
  async handleWebhook(input: WebhookInput, logic: BotLogic): Promise<WebhookResult> {
    const metrics = this.options.metrics;
    metrics?.webhooksReceived.inc({ platform: 'nimchat' });
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

    let body: unknown;
    try {
      body = JSON.parse(input.rawBody.toString('utf8'));
    } catch {
      return reject(400, 'invalid_json', 'the body is not valid JSON');
    }

    if (this.options.urlTokenSecret) {
      const check = verifyUrlToken(this.options.urlTokenSecret, input.query.get('token') ?? undefined);
      if (!check.ok) return reject(401, check.code, check.message);
      const scope = webhookScope(body);
      if (scope.account !== check.claims.account || (check.claims.inbox !== undefined && scope.inbox !== undefined && scope.inbox !== check.claims.inbox)) {
        return reject(401, 'nimchat_url_token_mismatch', 'the payload does not belong to the account/inbox of the token');
      }
    }

    let plan: IncomingPlan | { ignored: string };
    try {
      plan = planIncoming(parseNimchatWebhook(body), { baseUrl: this.options.baseUrl });
    } catch (error) {
      if (error instanceof ZodError) return reject(400, 'payload_invalid', `the payload is not a Nimchat webhook: ${z.prettifyError(error).replace(/\n/g, '; ')}`);
      throw error;
    }

    const delivery = header(input.headers, 'x-chatwoot-delivery');
    const keys = [...(delivery ? [`nimchat:delivery:${delivery}`] : []), ...('dedupeKeys' in plan ? plan.dedupeKeys.map((k) => `nimchat:${k}`) : [])];
    if (keys.length > 0 && (await this.options.dedupe.checkAndRemember(keys, this.options.dedupeTtlMs ?? 24 * 3600 * 1000))) {
      metrics?.webhooksDeduplicated.inc({ platform: 'nimchat' });
      this.logger.debug('duplicate delivery dropped', { delivery });
      return { status: 200, body: { ok: true, duplicate: true } };
    }

    if (!('conversationId' in plan)) {
      this.logger.debug('webhook acknowledged without a turn', { reason: plan.ignored });
      return { status: 200, body: { ok: true, ignored: plan.ignored } };
    }
    if (this.queue.isClosed) {
      await this.options.dedupe.forget(keys);
      // 500 is one of the two statuses Nimchat redelivers on.
      return { status: 500, body: errorBody('shutting_down', 'the bot is shutting down; deliver again') };
    }
    this.defaultLogic ??= logic;
    const queued = plan;
    void this.queue.enqueue(queued.conversationId, () => this.processPlan(queued, logic));
    return { status: 200, body: { ok: true } };
  }

  /** A refused webhook: counted, logged (without the body), answered as a JSON error. */
  private reject(status: number, code: string, message: string): WebhookResult {
    this.options.metrics?.webhooksRejected.inc({ platform: 'nimchat', reason: code });
    this.logger.warn('webhook rejected', { status, code, reason: message });
    return { status, body: errorBody(code, message) };
  }

  /** Runs inside the conversation's queue: ownership first, then the turn. */
  private async processPlan(plan: IncomingPlan, logic: BotLogic): Promise<void> {
    try {
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
    } catch (error) {
      this.logger.error('processing a webhook failed', { conversationId: plan.conversationId, error });
    }
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

  /** One turn through the middleware; a failure is logged and counted, never thrown. */
  private async runTurn(activity: Partial<Activity>, logic: BotLogic, options: { rethrow?: boolean; owner?: Owner } = {}): Promise<void> {
    const context = new TurnContext(this, activity);
    context.turnState.set(LOGIC_KEY, logic);
    // Ownership was just decided in this queue slot: spare the gate a second read of the store.
    if (options.owner) context.turnState.set(HandoffGateMiddleware.knownOwnerKey, options.owner);
    this.options.metrics?.turns.inc({ platform: 'nimchat', type: activity.type ?? 'unknown' });
    try {
      await runInTurnScope(activity.conversation!.id, () => this.runMiddleware(context, logic));
    } catch (error) {
      if (!(error instanceof Object && this.loggedErrors.has(error))) {
        this.options.metrics?.turnErrors.inc({ platform: 'nimchat' });
        this.logger.error('turn failed', { conversationId: activity.conversation?.id, error });
      }
      if (options.rethrow) throw error;
    }
  }

  private async countTurnErrors(context: TurnContext, next: () => Promise<void>): Promise<void> {
    try {
      await next();
    } catch (error) {
      this.options.metrics?.turnErrors.inc({ platform: 'nimchat' });
      this.logger.error('turn failed', {
        conversationId: context.activity.conversation?.id,
        activityType: context.activity.type,
        error: unwrapTurnError(error),
      });
      if (error instanceof Object) this.loggedErrors.add(error);
      throw error;
    }
  }

  // ---------------------------------------------------------------- outgoing

  async sendActivities(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    const responses: ResourceResponse[] = [];
    for (const activity of activities) {
      responses.push(await this.sendOne(context, activity));
    }
    return responses;
  }

  private async sendOne(context: TurnContext, activity: Partial<Activity>): Promise<ResourceResponse> {
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
          await this.actions.control(this.keyOf(activity), parseNimchatControl(activity.value));
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
    const key = this.keyOf(activity);
    const request = parseHandoffRequest(activity.value);
    const conversationId = activity.conversation!.id;
    const transcript = await this.transcriptText(activity, conversationId);
    const note = [`Handoff requested${request.reason ? `: ${request.reason}` : ''}`, '', 'Transcript:', transcript || '(no messages)'].join('\n');
    const reference = TurnContext.getConversationReference(context.activity);
    const logic = (context.turnState.get(LOGIC_KEY) as BotLogic | undefined) ?? this.defaultLogic;
    let status: HandoffStatusValue;
    try {
      await this.actions.handoff(key, request, note);
      const current = await this.ownership.get(NIMCHAT_CHANNEL_ID, conversationId);
      await this.ownership.set(NIMCHAT_CHANNEL_ID, conversationId, {
        owner: 'human',
        reason: 'handoff',
        platformStatus: 'open',
        observedAt: current?.observedAt,
      });
      status = { state: 'accepted', message: 'The conversation was handed to a human agent.' };
      this.logger.info('handoff done', { conversationId });
    } catch (error) {
      const message = error instanceof HandoffError ? error.message : 'the handoff failed';
      this.logger.error('handoff failed', { conversationId, error });
      status = { state: 'failed', message };
    }
    if (logic) {
      // Queued behind the current turn: the bot hears the outcome as its own turn.
      void this.queue.enqueue(conversationId, () => this.runTurn(statusActivity(reference, status), logic));
    }
    return { id: '' };
  }

  /** The transcript attached to the handoff (standard), or the stored one. */
  private async transcriptText(activity: Partial<Activity>, conversationId: string): Promise<string> {
    const attachment = activity.attachments?.find((a) => a.name === 'Transcript' || (a.content as { activities?: unknown })?.activities);
    const activities = (attachment?.content as { activities?: Partial<Activity>[] } | undefined)?.activities;
    if (Array.isArray(activities)) return formatTranscriptActivities(activities);
    return formatTranscript(await this.transcripts.list(NIMCHAT_CHANNEL_ID, conversationId));
  }

  async updateActivity(): Promise<ResourceResponse | void> {
    throw new NotSupportedError('nimchat', 'updating a sent message');
  }

  async deleteActivity(): Promise<void> {
    throw new NotSupportedError('nimchat', 'deleting a sent message');
  }

  // ---------------------------------------------------------------- proactive

  /** Runs `logic` with a `ContinueConversation` event in the referenced conversation. */
  async continueConversation(reference: Partial<ConversationReference>, logic: BotLogic): Promise<void> {
    const activity = TurnContext.applyConversationReference({ type: ActivityTypes.Event, name: 'ContinueConversation' }, reference, true);
    activity.channelId ??= NIMCHAT_CHANNEL_ID;
    activity.serviceUrl ??= this.options.baseUrl;
    activity.timestamp = new Date();
    return this.runProactive(activity, logic);
  }

  /** botbuilder's three overloads: (appId, ref, logic), (claims, ref, logic), (claims, ref, audience, logic). */
  override async continueConversationAsync(
    _botAppIdOrClaims: unknown,
    reference: Partial<ConversationReference>,
    logicOrAudience: BotLogic | string,
    maybeLogic?: BotLogic,
  ): Promise<void> {
    const logic = typeof logicOrAudience === 'function' ? logicOrAudience : maybeLogic;
    if (typeof logic !== 'function') throw new TypeError('continueConversationAsync needs a logic callback');
    return this.continueConversation(reference, logic);
  }

  /** Sends `handoff.status` (or any event) into the bot, in the conversation's order. */
  async emitToBot(reference: Partial<ConversationReference>, activity: Partial<Activity>, logic?: BotLogic): Promise<void> {
    const run = logic ?? this.defaultLogic;
    if (!run) throw new InvalidRequestError('nimchat_no_logic', 'no bot logic is known yet: pass it explicitly');
    const full = TurnContext.applyConversationReference({ ...activity, timestamp: new Date() }, reference, true);
    return this.runProactive(full, run);
  }

  private runProactive(activity: Partial<Activity>, logic: BotLogic): Promise<void> {
    const conversationId = activity.conversation?.id;
    if (!conversationId) return Promise.reject(new InvalidRequestError('nimchat_conversation_missing', 'the reference has no conversation id'));
    if (currentTurnConversation() === conversationId) return this.runTurn(activity, logic, { rethrow: true });
    return this.queue.enqueue(conversationId, () => this.runTurn(activity, logic, { rethrow: true }));
  }
}

function statusActivity(reference: Partial<ConversationReference>, value: HandoffStatusValue): Partial<Activity> {
  const activity = TurnContext.applyConversationReference(
    { type: ActivityTypes.Event, name: HandoffEvents.Status, value, valueType: 'application/vnd.microsoft.handoff.status' },
    reference,
    true,
  );
  activity.id = `handoff-status:${Date.now()}`;
  activity.timestamp = new Date();
  return activity;
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
