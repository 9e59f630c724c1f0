/**
 * What every platform adapter shares, so each platform's class is its pipeline only: the HTTP entry,
 * refusals, accepting an event (dedupe → queue), turns through the middleware (error counting,
 * transcript capture, handoff gate), `handoff.status` back to the bot, and proactive turns.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
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
import { systemClock, type Clock } from './clock';
import { ConversationQueue } from './conversation-queue';
import { InvalidRequestError, NotSupportedError, unwrapTurnError } from './errors';
import { refuseWebhook, webhookInputOf, writeWebhookResult, errorBody, type WebhookInput, type WebhookResult } from './http/webhook-io';
import type { Metrics } from './metrics';
import { silentLogger, type Logger } from './log';
import { OwnershipStore, type Owner } from './ownership';
import type { DedupeStore } from './storage/dedupe-store';
import { MemoryEventInbox, type EventInbox } from './storage/event-inbox';
import { MemoryOutbox } from './storage/outbox';
import { OutboxRunner } from './outbox-runner';
import { currentTurnConversation, runInTurnScope } from './turn-scope';
import { recoverInboxEvents, scheduleInboxEvent, type InboxProcessingDeps } from './inbox-processing';
import { ConversationEvents, HandoffEvents, type HandoffStatusValue } from '../dialogs/event-names';
import { parseHandoffRequest, type ConversationControlValue, type HandoffRequestValue } from '../dialogs/control-schemas';
import { HandoffGateMiddleware } from '../dialogs/handoff-gate';
import { StorageTranscriptStore, TranscriptCaptureMiddleware, describeActivity, formatTranscript, formatTranscriptActivities, type TranscriptStore } from '../dialogs/transcript';

export type BotLogic = (context: TurnContext) => Promise<void>;

export interface PlatformAdapterOptions {
  /** botbuilder Storage for ownership and transcripts (and the bot's own state). */
  storage: Storage;
  dedupe: DedupeStore;
  /** Where accepted events are kept until their turn is done (default: in memory, over `dedupe`). */
  inbox?: EventInbox;
  /** Runs handoff/control actions with retries (default: an in-memory outbox of its own). */
  outbox?: OutboxRunner;
  transcripts?: TranscriptStore;
  queue?: ConversationQueue;
  metrics?: Metrics;
  logger?: Logger;
  clock?: Clock;
  /** How long redeliveries are recognised (default 24 h). */
  dedupeTtlMs?: number;
  /** Called for a customer message the handoff gate kept from the bot (e.g. added to the ticket that owns it). */
  onSilencedMessage?: (context: TurnContext, owner: Owner) => Promise<void>;
}

/** An event to accept: the queue key, its idempotency keys and what `processEvent` needs later. */
export interface AcceptedEvent {
  conversationId: string;
  dedupeKeys: string[];
  /** JSON-serialisable: kept in the inbox and handed to `processEvent` (now, or after a restart). */
  payload: unknown;
  /** Status answered when the platform should deliver again (the adapter is shutting down). */
  redeliverStatus?: number;
}

/** What the outbox keeps of a handoff (JSON). */
interface HandoffAction {
  conversationId: string;
  reference: Partial<ConversationReference>;
  request: HandoffRequestValue;
  note: string;
}

/** What the outbox keeps of a `conversation.control` (JSON). */
interface ControlAction {
  conversationId: string;
  reference: Partial<ConversationReference>;
  control: ConversationControlValue;
}

const LOGIC_KEY = Symbol('botLogic');

export abstract class PlatformAdapter extends BotAdapter {
  abstract readonly channelId: string;
  readonly queue: ConversationQueue;
  readonly ownership: OwnershipStore;
  readonly transcripts: TranscriptStore;
  readonly eventInbox: EventInbox;
  readonly outboxRunner: OutboxRunner;
  protected readonly logger: Logger;
  protected readonly clock: Clock;
  private readonly loggedErrors = new WeakSet<object>();
  /** The logic of the last webhook, used for turns the adapter starts itself (handoff.status). */
  protected defaultLogic?: BotLogic;

  protected constructor(
    protected readonly platform: string,
    protected readonly base: PlatformAdapterOptions,
  ) {
    super();
    this.logger = (base.logger ?? silentLogger).child({ platform });
    this.clock = base.clock ?? systemClock;
    this.queue = base.queue ?? new ConversationQueue();
    this.ownership = new OwnershipStore(base.storage);
    this.transcripts = base.transcripts ?? new StorageTranscriptStore(base.storage);
    this.eventInbox = base.inbox ?? new MemoryEventInbox(base.dedupe, this.clock);
    if (base.outbox) this.outboxRunner = base.outbox;
    else {
      // An outbox of its own: in memory, polling for retries (the timer does not keep the process alive).
      this.outboxRunner = new OutboxRunner(new MemoryOutbox(this.clock), this.queue, { clock: this.clock, logger: base.logger, metrics: base.metrics });
      this.outboxRunner.start();
    }
    // Order matters: count failures of everything, record the transcript before the gate can stop a turn.
    this.use({ onTurn: (context, next) => this.countTurnErrors(context, next) });
    this.use(new TranscriptCaptureMiddleware(this.transcripts));
    this.use(new HandoffGateMiddleware(this.ownership, base.onSilencedMessage));
    this.registerConversationActions();
  }

  /** Transport-free entry: authenticity, validation, dedupe, then the turn is queued. */
  abstract handleWebhook(input: WebhookInput, logic: BotLogic): Promise<WebhookResult>;

  /** HTTP entry (botbuilder's `process(req, res, logic)` convention). */
  async process(req: IncomingMessage & { rawBody?: Buffer | string }, res: ServerResponse, logic: BotLogic): Promise<void> {
    const read = await webhookInputOf(req);
    if ('refused' in read) {
      this.base.metrics?.webhooksReceived.inc({ platform: this.platform });
      writeWebhookResult(res, this.reject(read.refused.status, read.refused.code, read.refused.message));
      return;
    }
    writeWebhookResult(res, await this.handleWebhook(read.input, logic));
  }

  /** A refused webhook: counted, logged (without the body), answered as a JSON error. */
  protected reject(status: number, code: string, message: string): WebhookResult {
    return refuseWebhook({ metrics: this.base.metrics, logger: this.logger }, this.platform, status, code, message);
  }

  /** The body as JSON, or the 400 to answer. */
  protected parseJson(input: WebhookInput): { body: unknown } | { refused: WebhookResult } {
    try {
      return { body: JSON.parse(input.rawBody.toString('utf8')) as unknown };
    } catch {
      return { refused: this.reject(400, 'invalid_json', 'the body is not valid JSON') };
    }
  }

  /** Runs a payload parser; a zod failure becomes the 400 naming the problem. */
  protected parsePayload<T>(what: string, parse: () => T): { value: T } | { refused: WebhookResult } {
    try {
      return { value: parse() };
    } catch (error) {
      if (error instanceof ZodError) {
        return { refused: this.reject(400, 'payload_invalid', `the payload is not ${what}: ${z.prettifyError(error).replace(/\n/g, '; ')}`) };
      }
      throw error;
    }
  }

  /**
   * Stores the event (refusing a duplicate, atomically) before the 2xx, then queues its processing
   * behind the conversation's earlier turns; it is marked done when its turn(s) finished.
   */
  protected async accept(event: AcceptedEvent, logic: BotLogic): Promise<WebhookResult> {
    if (this.queue.isClosed) {
      return { status: event.redeliverStatus ?? 503, body: errorBody('shutting_down', 'the bot is shutting down; deliver again') };
    }
    const accepted = await this.eventInbox.accept({
      platform: this.platform,
      conversationId: event.conversationId,
      dedupeKeys: event.dedupeKeys,
      ttlMs: this.base.dedupeTtlMs ?? 24 * 3600 * 1000,
      payload: event.payload,
    });
    if (accepted.duplicate) {
      this.base.metrics?.webhooksDeduplicated.inc({ platform: this.platform });
      this.logger.debug('duplicate delivery dropped', { keys: event.dedupeKeys });
      return { status: 200, body: { ok: true, duplicate: true } };
    }
    this.defaultLogic ??= logic;
    this.schedule(accepted.id, event.conversationId, event.payload, logic);
    return { status: 200, body: { ok: true } };
  }

  private schedule(id: number, conversationId: string, payload: unknown, logic: BotLogic): void {
    scheduleInboxEvent(this.inboxDeps(), id, conversationId, () => this.processEvent(payload, logic));
  }

  private inboxDeps(): InboxProcessingDeps {
    return { inbox: this.eventInbox, queue: this.queue, logger: this.logger, metrics: this.base.metrics };
  }

  /** Processes one accepted event (its turn or turns); runs inside the conversation's queue. */
  protected abstract processEvent(payload: unknown, logic: BotLogic): Promise<void>;

  /** The logic used for turns the adapter starts itself (recovered events, outbox outcomes). */
  useBotLogic(logic: BotLogic): void {
    this.defaultLogic = logic;
  }

  /**
   * Queues the events accepted before a stop whose turns did not finish, per conversation in their
   * original order. Call once at start, before new webhooks are accepted. Returns how many.
   */
  async recover(logic: BotLogic): Promise<number> {
    this.defaultLogic = logic;
    return recoverInboxEvents(this.inboxDeps(), this.platform, (event) => this.schedule(event.id, event.conversationId, event.payload, logic));
  }

  // ---------------------------------------------------------------- platform actions (outbox)

  /** Reads our conversation id back into the platform's key; throws a clear error for anything else. */
  protected abstract parseKey(conversationId: string): unknown;

  /** Carries out a handoff on the platform; what it returns is handed to `handoffSucceeded`. */
  protected abstract executeHandoff(conversationId: string, request: HandoffRequestValue, note: string): Promise<unknown>;

  /** Records who owns the conversation after a handoff; returns the `accepted` message for the bot. */
  protected abstract handoffSucceeded(conversationId: string, result: unknown): Promise<string>;

  /** Parses a `conversation.control` value; fields the platform cannot carry out are an error naming them. */
  protected abstract parseControl(value: unknown): ConversationControlValue;

  protected abstract executeControl(conversationId: string, control: ConversationControlValue): Promise<void>;

  protected async controlSucceeded(_conversationId: string): Promise<void> {}

  /** Handoff and control as outbox actions: retried across restarts, the outcome told to the bot. */
  private registerConversationActions(): void {
    const tell = (reference: Partial<ConversationReference>, status: HandoffStatusValue) => this.reportHandoffStatus(reference, status, this.defaultLogic);
    this.outboxRunner.register(this.platform, 'handoff', {
      execute: (payload) => {
        const p = payload as HandoffAction;
        return this.executeHandoff(p.conversationId, parseHandoffRequest(p.request), p.note);
      },
      succeeded: async (payload, result) => {
        const { conversationId, reference } = payload as HandoffAction;
        tell(reference, { state: 'accepted', message: await this.handoffSucceeded(conversationId, result) });
      },
      failed: async (payload, message) => {
        const { conversationId, reference } = payload as HandoffAction;
        this.logger.error('handoff failed', { conversationId, reason: message });
        tell(reference, { state: 'failed', message });
      },
    });
    this.outboxRunner.register(this.platform, 'control', {
      execute: (payload) => {
        const p = payload as ControlAction;
        return this.executeControl(p.conversationId, this.parseControl(p.control));
      },
      succeeded: (payload) => this.controlSucceeded((payload as ControlAction).conversationId),
      failed: async (payload, message) => {
        tell((payload as ControlAction).reference, { state: 'failed', message: `conversation.control failed: ${message}` });
      },
    });
  }

  /** The activity's conversation id, checked to be one of this platform's. */
  protected conversationIdOf(activity: Partial<Activity>): string {
    const id = activity.conversation?.id;
    if (!id) throw new InvalidRequestError(`${this.platform}_conversation_missing`, 'the activity has no conversation id');
    this.parseKey(id);
    return id;
  }

  /** `handoff.initiate` → written to the outbox, then the first attempt; the outcome reaches the bot as `handoff.status`. */
  private async initiateHandoff(context: TurnContext, activity: Partial<Activity>): Promise<ResourceResponse> {
    const conversationId = this.conversationIdOf(activity);
    const request = parseHandoffRequest(activity.value);
    const transcript = await this.transcriptText(activity, conversationId);
    const note = [`Handoff requested${request.reason ? `: ${request.reason}` : ''}`, '', 'Transcript:', transcript || '(no messages)'].join('\n');
    this.defaultLogic ??= this.logicOf(context);
    const payload: HandoffAction = { conversationId, reference: TurnContext.getConversationReference(context.activity), request, note };
    await this.outboxRunner.run({ platform: this.platform, conversationId, kind: 'handoff', payload });
    return { id: '' };
  }

  /** `conversation.control` → validated now (a bad value throws to the bot), carried out as an outbox action. */
  private async requestControl(context: TurnContext, activity: Partial<Activity>): Promise<ResourceResponse> {
    const conversationId = this.conversationIdOf(activity);
    const control = this.parseControl(activity.value);
    this.defaultLogic ??= this.logicOf(context);
    const payload: ControlAction = { conversationId, reference: TurnContext.getConversationReference(context.activity), control };
    await this.outboxRunner.run({ platform: this.platform, conversationId, kind: 'control', payload });
    return { id: '' };
  }

  /** One turn through the middleware; a failure is logged and counted, never thrown (unless asked). */
  protected async runTurn(activity: Partial<Activity>, logic: BotLogic, options: { rethrow?: boolean; owner?: Owner } = {}): Promise<void> {
    const context = new TurnContext(this, activity);
    context.turnState.set(LOGIC_KEY, logic);
    // Ownership was just decided in this queue slot: spare the gate a second read of the store.
    if (options.owner) context.turnState.set(HandoffGateMiddleware.knownOwnerKey, options.owner);
    this.base.metrics?.turns.inc({ platform: this.platform, type: activity.type ?? 'unknown' });
    try {
      await runInTurnScope(activity.conversation!.id, () => this.runMiddleware(context, logic));
    } catch (error) {
      if (!(error instanceof Object && this.loggedErrors.has(error))) {
        this.base.metrics?.turnErrors.inc({ platform: this.platform });
        this.logger.error('turn failed', { conversationId: activity.conversation?.id, error });
      }
      if (options.rethrow) throw error;
    }
  }

  private async countTurnErrors(context: TurnContext, next: () => Promise<void>): Promise<void> {
    try {
      await next();
    } catch (error) {
      this.base.metrics?.turnErrors.inc({ platform: this.platform });
      this.logger.error('turn failed', {
        conversationId: context.activity.conversation?.id,
        activityType: context.activity.type,
        error: unwrapTurnError(error),
      });
      if (error instanceof Object) this.loggedErrors.add(error);
      throw error;
    }
  }

  /** The logic running the current turn (or the last webhook's). */
  protected logicOf(context: TurnContext): BotLogic | undefined {
    return (context.turnState.get(LOGIC_KEY) as BotLogic | undefined) ?? this.defaultLogic;
  }

  /** `handoff.status` to the bot as its own turn, queued behind the current one. */
  protected reportHandoffStatus(reference: Partial<ConversationReference>, status: HandoffStatusValue, logic: BotLogic | undefined): void {
    if (!logic) return;
    const conversationId = reference.conversation?.id;
    if (!conversationId) return;
    void this.queue.enqueue(conversationId, () => this.runTurn(statusActivity(reference, status), logic));
  }

  /** The transcript attached to a handoff (standard), or the stored one. */
  protected async transcriptText(activity: Partial<Activity>, conversationId: string): Promise<string> {
    const attachment = activity.attachments?.find((a) => a.name === 'Transcript' || (a.content as { activities?: unknown })?.activities);
    const activities = (attachment?.content as { activities?: Partial<Activity>[] } | undefined)?.activities;
    if (Array.isArray(activities)) return formatTranscriptActivities(activities);
    return formatTranscript(await this.transcripts.list(this.channelId, conversationId));
  }

  async sendActivities(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    const responses: ResourceResponse[] = [];
    for (const activity of activities) responses.push(await this.sendOne(context, activity));
    return responses;
  }

  /** Carries out one outgoing activity: messages and typing per platform, the vocabulary of DESIGN §4 here. */
  private async sendOne(context: TurnContext, activity: Partial<Activity>): Promise<ResourceResponse> {
    switch (activity.type) {
      case ActivityTypes.Message:
        return this.sendMessage(activity);
      case ActivityTypes.Typing:
        await this.sendTyping(activity);
        return { id: '' };
      case 'delay':
        await this.clock.sleep(typeof activity.value === 'number' ? activity.value : 1000);
        return { id: '' };
      case ActivityTypes.Trace:
        return { id: '' };
      case ActivityTypes.Event:
        if (activity.name === HandoffEvents.Initiate) return this.initiateHandoff(context, activity);
        if (activity.name === ConversationEvents.Control) return this.requestControl(context, activity);
        throw new NotSupportedError(this.platform, `sending the event "${activity.name ?? ''}"`);
      default:
        throw new NotSupportedError(this.platform, `sending activities of type "${activity.type ?? ''}"`);
    }
  }

  protected abstract sendMessage(activity: Partial<Activity>): Promise<ResourceResponse>;

  /**
   * Sends a message into a conversation outside any turn (a relayed ticket answer): not through the
   * bot's logic, errors reach the caller (so an outbox can retry), and the transcript records it.
   */
  async deliverMessage(reference: Partial<ConversationReference>, activity: Partial<Activity>): Promise<ResourceResponse> {
    const full = TurnContext.applyConversationReference({ type: ActivityTypes.Message, ...activity }, reference, false);
    const conversationId = this.conversationIdOf(full);
    const response = await this.sendMessage(full);
    const text = describeActivity(full);
    if (text) await this.transcripts.append(this.channelId, conversationId, [{ role: 'bot', text, at: new Date(this.clock.now()).toISOString() }]);
    return response;
  }

  /** A typing indicator where the platform has one (none by default). */
  protected async sendTyping(_activity: Partial<Activity>): Promise<void> {}

  /** The `serviceUrl` of proactive activities. */
  protected abstract get serviceUrl(): string;

  // ---------------------------------------------------------------- proactive

  /** Runs `logic` with a `ContinueConversation` event in the referenced conversation. */
  async continueConversation(reference: Partial<ConversationReference>, logic: BotLogic): Promise<void> {
    const activity = TurnContext.applyConversationReference({ type: ActivityTypes.Event, name: 'ContinueConversation' }, reference, true);
    activity.channelId ??= this.channelId;
    activity.serviceUrl ??= this.serviceUrl;
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
    if (!run) throw new InvalidRequestError(`${this.platform}_no_logic`, 'no bot logic is known yet: pass it explicitly');
    const full = TurnContext.applyConversationReference({ ...activity, timestamp: new Date() }, reference, true);
    return this.runProactive(full, run);
  }

  private runProactive(activity: Partial<Activity>, logic: BotLogic): Promise<void> {
    const conversationId = activity.conversation?.id;
    if (!conversationId) return Promise.reject(new InvalidRequestError(`${this.platform}_conversation_missing`, 'the reference has no conversation id'));
    if (currentTurnConversation() === conversationId) return this.runTurn(activity, logic, { rethrow: true });
    return this.queue.enqueue(conversationId, () => this.runTurn(activity, logic, { rethrow: true }));
  }
}

/** A `handoff.status` event activity for a conversation. */
export function statusActivity(reference: Partial<ConversationReference>, value: HandoffStatusValue): Partial<Activity> {
  const activity = TurnContext.applyConversationReference(
    { type: ActivityTypes.Event, name: HandoffEvents.Status, value, valueType: 'application/vnd.microsoft.handoff.status' },
    reference,
    true,
  );
  activity.id = `handoff-status:${Date.now()}`;
  activity.timestamp = new Date();
  return activity;
}
