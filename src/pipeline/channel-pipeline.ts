/**
 * The way of every webhook, whatever the platform (its connector answers the platform questions):
 * authenticate → parse and plan once → durable inbox (dedupe, group commit) → 2xx → on the
 * conversation's queue: ownership events through the reducer → the turn (transcript, handoff gate,
 * middleware, bot logic) → the turn's writes and outgoing effects committed together → effects
 * delivered from the outbox, in order, retried until they succeed or fail for good.
 */
import { randomUUID } from 'node:crypto';
import { ActivityTypes, TurnContext, type Activity, type BotAdapter, type ConversationReference, type ResourceResponse } from 'botbuilder-core';
import { attachedTranscript, handoffNote } from '../control/handoff-note';
import { ConversationEvents, HandoffEvents, parseHandoffRequest, type ConversationControl, type HandoffRequest, type HandoffStatus, type Reclaimed } from '../control/vocabulary';
import { InvalidRequestError, NotSupportedError } from '../errors';
import type { WebhookInput, WebhookResult } from '../http/webhook-io';
import type { Logger } from '../log';
import type { InboxEvent } from '../storage/event-inbox';
import type { OutboxAction } from '../storage/outbox';
import type { NewOutboxAction } from '../storage/turn-writes';
import type { Owner, OwnershipEvent } from '../ownership';
import { botEntries, customerEntry, type TranscriptEntry } from '../transcript';
import type { Connector, PlannedEvent } from './connector';
import { WebhookIntake, type IntakeEvent, type IntakeSource } from './webhook-intake';
import type { PipelineRuntime } from './pipeline-runtime';
import { currentTurn, currentUnit, runInTurnScope, type TurnUnit } from '../turn-scope';
import { queuedStep, turnStep, webhookStep } from '../timeline/timeline-steps';
import { recordStep } from '../timeline/record-step';
import { PROMPT_IN_VIEW, type PromptInView } from '../control/prompt-in-view';
import { SatisfactionSurvey, type SurveyChannel, type SurveyOutcome } from '../satisfaction/satisfaction-survey';
import type { OwnershipRecord } from '../ownership';
import type { Satisfaction, StretchEnd } from '../control/vocabulary';
import { platformLabels } from '../tenants/tenant-scope';

export type BotLogic = (context: TurnContext) => Promise<void>;

/** How the pipeline reaches the bot: the BotAdapter face it runs turns on. */
export interface BotSide {
  adapter: BotAdapter;
  runMiddleware(context: TurnContext, logic: BotLogic): Promise<void>;
}

export interface ChannelPipelineOptions {
  /** The bot's logic, for every turn the pipeline runs (else given by the first `process`). */
  logic?: BotLogic;
  /**
   * A customer message kept from the bot while a human or a ticket owns the conversation. Answering
   * `deliver` lets it reach the bot after all (the bot is talking with a customer who waits for a human).
   */
  onSilencedMessage?: (context: TurnContext, owner: Owner) => Promise<SilencedMessageDecision>;
}

/** What `onSilencedMessage` decides: nothing (the message stays kept from the bot) or `deliver`. */
export type SilencedMessageDecision = void | undefined | 'deliver';

/** Effects a turn commits to the outbox (JSON). */
interface MessageEffect {
  activityId: string;
  activity: Partial<Activity>;
}
interface HandoffEffect {
  activityId: string;
  reference: Partial<ConversationReference>;
  request: HandoffRequest;
  note: string;
}
interface SurveyEffect {
  activityId: string;
  activity: Partial<Activity>;
  /** The stretch's end: a survey the platform sent by itself since then is the question already. */
  since: number;
}
interface ControlEffect {
  activityId: string;
  reference: Partial<ConversationReference>;
  control: ConversationControl;
}

export class ChannelPipeline {
  readonly platform: string;
  /** Its metric labels: the platform, and the tenant it serves. */
  private readonly labels: { platform: string; tenant?: string };
  private readonly logger: Logger;
  private logic?: BotLogic;
  private logicKnown: Promise<BotLogic>;
  private resolveLogic!: (logic: BotLogic) => void;
  private readonly intake: WebhookIntake;
  /** Events a burst took into an earlier turn (committed): skipped when their own turn in the queue comes. */
  private readonly inEarlierTurn = new Set<number>();
  private readonly turns;
  /** The turn counter's labelled children by activity type (no label object and lookup per turn). */
  private readonly turnsByType = new Map<string, { inc(): void }>();

  constructor(
    readonly connector: Connector,
    readonly runtime: PipelineRuntime,
    private readonly bot: BotSide,
    private readonly options: ChannelPipelineOptions = {},
  ) {
    this.platform = connector.platform;
    this.labels = platformLabels(connector.platform);
    this.logger = runtime.logger.child({ platform: this.platform });
    this.logicKnown = new Promise((resolve) => (this.resolveLogic = resolve));
    if (options.logic) this.useLogic(options.logic);
    this.turns = runtime.metrics?.turns;
    this.intake = new WebhookIntake(this.intakeSource(), runtime);
    this.registerEffects();
    runtime.scheduler.register(this.platform, (stored) => this.processStored(stored), (conversationId) => this.turnKeys(conversationId));
  }

  /** The bot logic for every turn; the first one given is kept. */
  useLogic(logic: BotLogic): void {
    if (this.logic) return;
    this.logic = logic;
    this.resolveLogic(logic);
  }

  // ---------------------------------------------------------------- intake

  /** Transport-free entry: authenticity, parsing, the durable accept; the turn runs after the answer. */
  handle(input: WebhookInput): Promise<WebhookResult> {
    return this.intake.handle(input);
  }

  /**
   * Stores a planned event (once: a dedupe key seen before makes it a duplicate) and schedules its
   * turn. What a webhook becomes, and what a platform found it had missed (events the platform never
   * delivered), go the same way. Throws when the store fails.
   */
  accept(event: PlannedEvent): Promise<'accepted' | 'duplicate'> {
    return this.intake.accept(this.intakeEvent(event));
  }

  private intakeEvent(event: PlannedEvent): IntakeEvent {
    return { conversationId: event.conversationId, dedupeKeys: event.dedupeKeys, payload: event, timeline: webhookStep(this.platform, event) };
  }

  /** The connector as the intake's source: its plan's one event, stored whole. */
  private intakeSource(): IntakeSource {
    const { connector } = this;
    return {
      platform: connector.platform,
      redeliverStatus: connector.redeliverStatus,
      authenticate: (input, nowMs) => connector.authenticate(input, nowMs),
      plan: (body, input, claims) => {
        const planned = connector.plan(body, input, claims);
        return 'event' in planned ? { event: this.intakeEvent(planned.event) } : planned;
      },
    };
  }

  // ---------------------------------------------------------------- turns

  /**
   * A stored event as one turn, its done mark committed with it; a commit failure is thrown (nothing
   * of it happened: it runs again). With a debounce, a customer's message first waits for the ones
   * that follow it closely: together they are one turn, their done marks in its commit.
   */
  private async processStored(stored: InboxEvent): Promise<void> {
    if (this.inEarlierTurn.delete(stored.id)) return;
    const burst = await this.burstFrom(stored);
    try {
      await this.ownTurn(stored.conversationId, async (unit) => {
        await this.processEvents(burst.map((b) => b.event));
        for (const b of burst) unit.writes.markInboxDone(b.stored.id);
      });
    } catch (error) {
      this.runtime.metrics?.turnErrors.inc(this.labels);
      throw error;
    }
    // Committed: their own place in the queue finds them done.
    for (const b of burst.slice(1)) this.inEarlierTurn.add(b.stored.id);
    if (this.inEarlierTurn.size > 10_000) this.inEarlierTurn.delete(this.inEarlierTurn.values().next().value!);
  }

  /**
   * The event, and when it is a customer's plain message and the debounce is on, the plain messages
   * of the same customer that follow it, each within the window of the one before (waited for here,
   * in the conversation's slot; at most four windows in all). What a crash interrupts is still
   * unfinished in the store and forms its burst again at the next start.
   */
  private async burstFrom(stored: InboxEvent): Promise<Array<{ stored: InboxEvent; event: PlannedEvent }>> {
    const first = { stored, event: revivePlannedEvent(stored.payload as PlannedEvent) };
    const { debounceMs, clock, scheduler } = this.runtime;
    if (debounceMs <= 0 || !isPlainMessage(first.event)) return [first];
    const latest = Math.max(clock.now(), stored.receivedAt) + 4 * debounceMs;
    let burst = [first];
    for (;;) {
      const last = burst.at(-1)!.stored;
      const until = Math.min(last.receivedAt + debounceMs, latest);
      while (clock.now() < until) await clock.sleep(until - clock.now());
      const next: typeof burst = [first];
      for (const later of await scheduler.pendingAfter(stored)) {
        if (later.platform !== this.platform) break;
        const event = revivePlannedEvent(later.payload as PlannedEvent);
        if (!isPlainMessage(event) || event.activity.from?.id !== first.event.activity.from?.id) break;
        next.push({ stored: later, event });
      }
      const grew = next.length > burst.length;
      burst = next;
      if (!grew || clock.now() >= latest) return burst;
    }
  }

  /** Runs `fn` as one turn of the conversation: its writes and effects committed together, then the effects queued. */
  private async ownTurn(conversationId: string, fn: (unit: TurnUnit) => Promise<void>): Promise<void> {
    const unit: TurnUnit = { conversationId, writes: this.runtime.stores.beginTurn(), effects: [], open: true };
    await unit.writes.prefetch(this.turnKeys(conversationId));
    try {
      await runInTurnScope({ conversationId, unit }, () => fn(unit));
    } finally {
      unit.open = false;
    }
    const { outboxIds } = await unit.writes.commit();
    const now = this.runtime.clock.now();
    this.runtime.delivery.enqueue(
      unit.effects.map((action, i): OutboxAction => ({ ...action, id: outboxIds[i]!, attempts: 0, nextAttemptAt: now })),
      { justCommitted: true },
    );
  }

  /**
   * What a turn reads, fetched in one round trip when it begins: the ownership record, the transcript
   * head, and the bot's conversation state where botbuilder's `ConversationState` keeps it.
   */
  private turnKeys(conversationId: string): string[] {
    const { channelId } = this.connector;
    const { ownership, transcripts } = this.runtime;
    return [
      ownership.storageKey(channelId, conversationId),
      ...(transcripts.headKey ? [transcripts.headKey(channelId, conversationId)] : []),
      `${channelId}/conversations/${conversationId}/`,
      ...(this.runtime.satisfaction.enabled ? [SatisfactionSurvey.key(channelId, conversationId)] : []),
    ];
  }

  /**
   * Ownership first (the reducer), each event's in order, then the turn; a release reaches the bot as
   * `handoff.status completed`. Several events (a burst of the customer's messages) are one message
   * turn with their texts in order (the newest message's id and time), each still its own transcript line.
   */
  private async processEvents(events: PlannedEvent[]): Promise<void> {
    const { connector, runtime } = this;
    let owner: Owner = 'bot';
    const prepared: PlannedEvent[] = [];
    for (const planned of events) {
      const current = await runtime.ownership.get(connector.channelId, planned.conversationId);
      const event = connector.prepare ? await connector.prepare(planned, current, runtime.storage) : planned;
      owner = current?.owner ?? 'bot';
      if (event.ownership.length > 0) {
        const decision = await runtime.ownership.apply(connector.channelId, event.conversationId, event.ownership, current);
        owner = decision.record.owner;
        if (decision.transition) this.logTransition(event.conversationId, decision.transition, decision.record.reason);
        if (decision.transition === 'released') {
          const reference = TurnContext.getConversationReference(event.activity);
          await this.runTurn(statusActivity(reference, { state: 'completed', message: 'The conversation is back with the bot.' }, new Date(runtime.clock.now())), owner);
          // A stretch a human had closed already (resolved) was surveyed then: its reopening is no new end.
          if (!this.closedStatus(current)) await this.surveyAfter(reference, current, current?.owner === 'ticket' ? 'ticket_closed' : 'released', {}, during(events));
        } else if (this.closedByHuman(current, decision.record)) {
          await this.surveyAfter(TurnContext.getConversationReference(event.activity), current, 'resolved', {}, during(events));
        }
      }
      prepared.push(event);
    }
    if (prepared.length === 1) return this.runTurn(prepared[0]!.activity, owner);
    const last = prepared.at(-1)!.activity;
    const attachments = prepared.flatMap((e) => e.activity.attachments ?? []);
    const activity: Partial<Activity> = {
      ...last,
      text: prepared.map((e) => e.activity.text ?? '').filter((t) => t !== '').join('\n'),
      ...(attachments.length > 0 ? { attachments } : { attachments: undefined }),
    };
    const lines = prepared.map((e) => customerEntry(e.activity)).filter((e): e is TranscriptEntry => e !== undefined);
    await this.runTurn(activity, owner, lines);
  }

  private countTurn(type: string): void {
    if (!this.turns) return;
    let child = this.turnsByType.get(type);
    if (!child) this.turnsByType.set(type, (child = this.turns.labels({ ...this.labels, type })));
    child.inc();
  }

  private logTransition(conversationId: string, transition: 'released' | 'taken', reason: string): void {
    this.logger.info(transition === 'released' ? 'conversation returned to the bot' : 'the bot no longer owns the conversation', { conversationId, reason });
  }

  /** One turn: transcript, the handoff gate (on the owner just decided), middleware and the bot's logic. The bot's failures are caught; the store's are thrown. */
  private async runTurn(activity: Partial<Activity>, owner: Owner, lines?: TranscriptEntry[]): Promise<void> {
    const { runtime, connector } = this;
    const context = new TurnContext(this.bot.adapter, activity);
    this.countTurn(activity.type ?? 'unknown');
    // The turn's timeline step, committed with it; its duration is known at the end.
    const started = performance.now();
    const step = turnStep(this.platform, activity, owner, runtime.clock.now());
    recordStep(runtime.stores.timeline, step, this.logger);
    const ended = () => (step.durationMs = Math.round((performance.now() - started) * 10) / 10);
    // `lines`: a burst's messages, each its own line.
    const entries = lines ?? [customerEntry(activity) ?? agentEntry(activity)].filter((e): e is TranscriptEntry => e !== undefined);
    const entry = entries.at(-1);
    const appended = entries.length > 0 ? await runtime.transcripts.append(connector.channelId, activity.conversation!.id, entries) : undefined;
    if (entry?.role === 'customer') {
      const previous = appended?.previous;
      context.turnState.set(PROMPT_IN_VIEW, { expectingInput: previous?.role === 'bot' && previous.expectingInput === true, text: previous?.role === 'bot' ? previous.text : undefined } satisfies PromptInView);
      // A conversation's first message: botbuilder bots greet in onMembersAdded, so they get the
      // conversationUpdate first (once: the transcript now exists). Not while a human owns it.
      if (appended?.created && owner === 'bot') await this.runMembersAdded(activity);
    }
    if (await this.surveyRead(activity, owner)) {
      ended();
      return;
    }
    if (activity.type === ActivityTypes.Message && owner !== 'bot') {
      const decision = await this.options.onSilencedMessage?.(context, owner);
      if (decision !== 'deliver') {
        this.logger.debug('message kept from the bot', { conversationId: activity.conversation?.id, owner });
        ended();
        return;
      }
    }
    const logic = this.logic ?? (await this.logicKnown);
    try {
      await this.bot.runMiddleware(context, logic);
    } catch (error) {
      // Already counted and logged by the face's first middleware.
      this.logger.debug('turn ended with an error', { conversationId: activity.conversation?.id, error });
      step.detail = { ...step.detail, error: error instanceof Error ? error.message : String(error) };
    }
    ended();
  }

  /** `conversationUpdate` with the customer and the bot as `membersAdded`, before a new conversation's first message. */
  private async runMembersAdded(first: Partial<Activity>): Promise<void> {
    const activity: Partial<Activity> = {
      type: ActivityTypes.ConversationUpdate,
      id: `${first.id ?? randomUUID()}:members-added`,
      channelId: first.channelId,
      serviceUrl: first.serviceUrl,
      conversation: first.conversation,
      from: first.from,
      recipient: first.recipient,
      membersAdded: [first.from!, first.recipient!].filter((member) => member !== undefined),
      timestamp: first.timestamp,
      locale: first.locale,
    };
    this.countTurn(ActivityTypes.ConversationUpdate);
    const logic = this.logic ?? (await this.logicKnown);
    try {
      await this.bot.runMiddleware(new TurnContext(this.bot.adapter, activity), logic);
    } catch (error) {
      this.logger.debug('the conversationUpdate turn ended with an error', { conversationId: activity.conversation?.id, error });
    }
  }

  // ---------------------------------------------------------------- outgoing

  /** What a turn sends: recorded as effects of the turn (committed with it), delivered after. One response per activity. */
  async send(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    const responses: ResourceResponse[] = [];
    for (const activity of activities) responses.push(await this.sendOne(context, activity));
    return responses;
  }

  private async sendOne(context: TurnContext, activity: Partial<Activity>): Promise<ResourceResponse> {
    switch (activity.type) {
      case ActivityTypes.Message:
        return { id: await this.queueMessage(activity) };
      case ActivityTypes.Typing:
        await this.connector.sendTyping?.(activity).catch((error: unknown) => this.logger.debug('typing indicator failed', { error }));
        return { id: '' };
      case 'delay':
        await this.addEffect(this.conversationIdOf(activity), 'delay', { ms: typeof activity.value === 'number' ? activity.value : 1000 });
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

  /** A message as an effect of the turn (a `survey` question: not sent when the platform asked by itself since `since`), in the transcript now. */
  private async queueMessage(activity: Partial<Activity>, survey?: { since: number }): Promise<string> {
    const conversationId = this.conversationIdOf(activity);
    const id = randomUUID();
    await this.runtime.transcripts.append(this.connector.channelId, conversationId, botEntries([activity], new Date(this.runtime.clock.now())));
    if (survey) await this.addEffect(conversationId, 'survey', { activityId: id, activity, since: survey.since } satisfies SurveyEffect);
    else await this.addEffect(conversationId, 'message', { activityId: id, activity } satisfies MessageEffect);
    return id;
  }

  // ---------------------------------------------------------------- satisfaction

  /** A human ended their stretch by a closing status (Nimchat's resolve) and still holds the conversation. */
  private closedByHuman(before: OwnershipRecord | undefined, after: OwnershipRecord): boolean {
    return before?.owner === 'human' && after.owner === 'human' && !this.closedStatus(before) && this.closedStatus(after);
  }

  /** The record shows a closing status (the platform's resolve). */
  private closedStatus(record: OwnershipRecord | undefined): boolean {
    return this.connector.satisfaction?.closedStatuses?.includes(record?.platformStatus ?? '') === true;
  }

  private surveyChannel(): SurveyChannel {
    const support = this.connector.satisfaction;
    return { channelId: this.connector.channelId, platformSurvey: support?.platformSurvey, replyWindowMs: support?.replyWindowMs };
  }

  /**
   * A human stretch ended (inside the conversation's turn): the satisfaction question, when the survey
   * is on and the platform can still deliver. `before` is the owner record while the human had it.
   */
  private async surveyAfter(reference: Partial<ConversationReference>, before: OwnershipRecord | undefined, ended: StretchEnd, extra: { ticketId?: string } = {}, during: string[] = []): Promise<void> {
    const survey = this.runtime.satisfaction;
    if (!survey.enabled) return;
    const stretch = survey.stretchOf(before, ended, extra);
    const outcome = await survey.stretchEnded(this.surveyChannel(), reference, stretch, during);
    const conversationId = reference.conversation?.id ?? '';
    const asked = outcome.send.length > 0;
    this.runtime.metrics?.surveys.inc({ ...this.labels, outcome: asked ? 'asked' : 'not_asked' });
    this.recordSurvey(conversationId, asked ? { what: 'satisfaction_asked', ...stretch } : { what: 'satisfaction_not_asked', ...stretch, why: outcome.note });
    for (const question of outcome.send) await this.queueMessage(question, { since: stretch.endedAt });
  }

  /** The stretch end the ticket's closing is (the ticket events' part): the survey, in the conversation's order. */
  ticketClosed(reference: Partial<ConversationReference>, before: OwnershipRecord | undefined, ticketId: string): Promise<void> {
    if (!this.runtime.satisfaction.enabled) return Promise.resolve();
    return this.inConversationTurn(reference, () => this.surveyAfter(reference, before, 'ticket_closed', { ticketId }));
  }

  /**
   * Before the bot sees an activity: the survey's answer (a customer's message while a question is
   * open, the platform's survey answered) is the survey's: recorded, answered, told to the bot as
   * `conversation.satisfaction`. True when the activity ends here.
   */
  private async surveyRead(activity: Partial<Activity>, owner: Owner): Promise<boolean> {
    const platformAnswer = activity.type === ActivityTypes.Event && activity.name === ConversationEvents.Satisfaction;
    if (!platformAnswer && (!this.runtime.satisfaction.enabled || activity.type !== ActivityTypes.Message || owner !== 'bot')) return false;
    const outcome: SurveyOutcome = await this.runtime.satisfaction.read(this.surveyChannel(), activity);
    const conversationId = activity.conversation?.id ?? '';
    if (outcome.note) {
      this.runtime.metrics?.surveys.inc({ ...this.labels, outcome: 'dropped' });
      this.recordSurvey(conversationId, { what: 'satisfaction_dropped', why: outcome.note });
    }
    for (const next of outcome.send) await this.queueMessage(next);
    if (outcome.answered) await this.satisfied(activity, outcome.answered);
    return outcome.consumed;
  }

  /** A rating: counted, on the timeline, logged, and given to the bot. */
  private async satisfied(activity: Partial<Activity>, answer: Satisfaction): Promise<void> {
    const conversationId = activity.conversation?.id ?? '';
    this.runtime.metrics?.satisfaction.inc({ ...this.labels, rating: String(answer.rating) });
    this.runtime.metrics?.surveys.inc({ ...this.labels, outcome: 'answered' });
    this.recordSurvey(conversationId, { what: 'satisfaction', ...answer });
    this.logger.info('satisfaction rated', { conversationId, rating: answer.rating, ended: answer.ended });
    const event = TurnContext.applyConversationReference(
      { type: ActivityTypes.Event, name: ConversationEvents.Satisfaction, value: answer, timestamp: new Date(this.runtime.clock.now()) },
      TurnContext.getConversationReference(activity),
      true,
    );
    event.id = `satisfaction:${answer.surveyId}`;
    this.countTurn(ActivityTypes.Event);
    const logic = this.logic ?? (await this.logicKnown);
    try {
      await this.bot.runMiddleware(new TurnContext(this.bot.adapter, event), logic);
    } catch (error) {
      this.logger.debug('the satisfaction turn ended with an error', { conversationId, error });
    }
  }

  private recordSurvey(conversationId: string, detail: Record<string, unknown>): void {
    recordStep(this.runtime.stores.timeline, { platform: this.platform, conversationId, kind: 'event', at: this.runtime.clock.now(), detail }, this.logger);
  }

  /** `handoff.initiate` → a durable effect of the turn, carried out after it; the outcome reaches the bot as `handoff.status`. */
  private async initiateHandoff(context: TurnContext, activity: Partial<Activity>): Promise<ResourceResponse> {
    const conversationId = this.conversationIdOf(activity);
    const request = parseHandoffRequest(activity.value);
    const attached = attachedTranscript(activity);
    const stored = attached ? [] : await this.runtime.transcripts.list(this.connector.channelId, conversationId);
    const id = randomUUID();
    const effect: HandoffEffect = { activityId: id, reference: TurnContext.getConversationReference(context.activity), request, note: handoffNote(request, attached, stored) };
    await this.addEffect(conversationId, 'handoff', effect);
    return { id };
  }

  /** `conversation.control` → validated now (a bad value throws to the bot), carried out after the turn. */
  private async requestControl(context: TurnContext, activity: Partial<Activity>): Promise<ResourceResponse> {
    const conversationId = this.conversationIdOf(activity);
    const control = this.connector.parseControl(activity.value);
    const id = randomUUID();
    await this.addEffect(conversationId, 'control', { activityId: id, reference: TurnContext.getConversationReference(context.activity), control } satisfies ControlEffect);
    return { id };
  }

  /**
   * In the conversation's own turn: an effect committed with it. Anywhere else (a proactive send
   * from another conversation's turn, work that outlived its turn): written to the outbox now.
   */
  private async addEffect(conversationId: string, kind: string, payload: unknown): Promise<void> {
    const action: NewOutboxAction = { platform: this.platform, conversationId, kind, payload };
    // Found through the scope, not the context's turnState: botbuilder's copies of a TurnContext drop it.
    const unit = currentUnit();
    if (unit?.conversationId === conversationId) return this.addToUnit(unit, action);
    await this.runtime.delivery.submit({ ...action, payload: JSON.parse(JSON.stringify(payload)) as unknown });
  }

  private addToUnit(unit: TurnUnit, action: NewOutboxAction): void {
    // The committed copy is what is delivered: the bot may change its objects after sending them.
    const committed = unit.writes.addOutbox(action);
    unit.writes.addTimeline({ ...queuedStep(committed), at: this.runtime.clock.now() });
    unit.effects.push(committed);
  }

  private conversationIdOf(activity: Partial<Activity>): string {
    const id = activity.conversation?.id;
    if (!id) throw new InvalidRequestError(`${this.platform}_conversation_missing`, 'the activity has no conversation id');
    this.connector.checkConversationId(id);
    return id;
  }

  /** The effects' executors: the connector's platform calls, and what their outcome tells the bot. */
  private registerEffects(): void {
    const { delivery } = this.runtime;
    const { connector } = this;
    delivery.register(this.platform, 'message', {
      execute: (action, progress) => connector.sendMessage(reviveActivity((action.payload as MessageEffect).activity), progress),
      failed: (action, message) => {
        const { activityId, activity } = action.payload as MessageEffect;
        this.tellBot(activity, { type: ActivityTypes.Event, name: ConversationEvents.DeliveryFailed, value: { activityId, kind: 'message', message } });
      },
    });
    delivery.register(this.platform, 'survey', {
      execute: async (action, progress) => {
        const { activity, since } = action.payload as SurveyEffect;
        const asked = await Promise.resolve(connector.satisfaction?.askedSince?.(action.conversationId, since)).catch((error: unknown) => {
          this.logger.warn('could not look for the platform\'s own survey; asking', { conversationId: action.conversationId, error });
          return false;
        });
        // No result: the platform's survey is no message of ours (a later look before repeating must not take it for one).
        if (asked) return '';
        return connector.sendMessage(reviveActivity(activity), progress);
      },
    });
    delivery.register(this.platform, 'delay', { execute: (action) => this.runtime.clock.sleep((action.payload as { ms: number }).ms) });
    delivery.register(this.platform, 'handoff', {
      execute: (action, progress) => {
        const effect = action.payload as HandoffEffect;
        return connector.handoff(action.conversationId, parseHandoffRequest(effect.request), effect.note, progress);
      },
      succeeded: (action, result) => {
        const { reference } = action.payload as HandoffEffect;
        const outcome = result as Awaited<ReturnType<Connector['handoff']>>;
        this.logger.info('handoff done', { conversationId: action.conversationId });
        this.runtime.metrics?.handoffs.inc({ ...this.labels, outcome: 'accepted' });
        // Who the conversation went to, for what the customer later says about the stretch.
        const { team, agent } = (action.payload as HandoffEffect).request;
        const asked = { ...(team !== undefined ? { team: String(team) } : {}), ...(agent !== undefined ? { agent: String(agent) } : {}) };
        const details = Object.keys(asked).length > 0 || outcome.details ? { ...asked, ...outcome.details } : undefined;
        return this.reportStatus(reference, { state: 'accepted', message: outcome.message }, [
          { type: 'handoff_completed', platformStatus: outcome.platformStatus, details, observedAt: outcome.observedAt },
        ]);
      },
      failed: (action, message) => {
        this.logger.error('handoff failed', { conversationId: action.conversationId, reason: message });
        this.runtime.metrics?.handoffs.inc({ ...this.labels, outcome: 'failed' });
        return this.reportStatus((action.payload as HandoffEffect).reference, { state: 'failed', message });
      },
    });
    delivery.register(this.platform, 'control', {
      execute: (action, progress) => connector.control(action.conversationId, connector.parseControl((action.payload as ControlEffect).control), progress),
      failed: (action, message) => this.reportStatus((action.payload as ControlEffect).reference, { state: 'failed', message: `conversation.control failed: ${message}` }),
    });
  }

  /** `handoff.status` to the bot as its own turn in the conversation's order, after the ownership events it implies. */
  private async reportStatus(reference: Partial<ConversationReference>, status: HandoffStatus, ownership: OwnershipEvent[] = []): Promise<void> {
    const conversationId = reference.conversation?.id;
    if (!conversationId) return;
    const { runtime, connector } = this;
    // Awaited by the outbox before the action's done mark: a crash in between repeats only this.
    await runtime.queue
      .enqueue(conversationId, () =>
        this.ownTurn(conversationId, async () => {
          const decision = ownership.length > 0 ? await runtime.ownership.apply(connector.channelId, conversationId, ownership) : undefined;
          if (decision?.transition) this.logTransition(conversationId, decision.transition, decision.record.reason);
          await this.runTurn(statusActivity(reference, status, new Date(runtime.clock.now())), decision?.record.owner ?? 'bot');
        }),
      )
      .catch((error: unknown) => {
        this.logger.error('could not tell the bot a handoff status', { conversationId, error });
        throw error;
      });
  }

  /** An event about something the bot sent, as its own turn. */
  private tellBot(sent: Partial<Activity>, event: Partial<Activity>): void {
    const reference: Partial<ConversationReference> = { channelId: sent.channelId, serviceUrl: sent.serviceUrl, conversation: sent.conversation, user: sent.recipient, bot: sent.from };
    void this.emitToBot(reference, event).catch((error: unknown) => this.logger.error('could not tell the bot', { conversationId: sent.conversation?.id, error }));
  }

  // ---------------------------------------------------------------- reclaimed

  /**
   * The platform had given the conversation away while it could not reach the bot, and it was found
   * again (the messages the bot missed accepted already, so their turns come first): in one turn of
   * the conversation, the humans get `note` when given (a `conversation.control` note), and the bot is
   * told (`conversation.reclaimed`). Counted by outcome.
   */
  async reclaimed(reference: Partial<ConversationReference>, value: Reclaimed, note?: string): Promise<void> {
    const conversationId = reference.conversation?.id;
    if (!conversationId) throw new InvalidRequestError(`${this.platform}_conversation_missing`, 'the reference has no conversation id');
    this.runtime.metrics?.reclaimed.inc({ ...this.labels, outcome: value.outcome });
    const activity = TurnContext.applyConversationReference({ type: ActivityTypes.Event, name: ConversationEvents.Reclaimed, value, timestamp: new Date(this.runtime.clock.now()) }, reference, true);
    activity.id = `reclaimed:${randomUUID()}`;
    const turn = () =>
      this.ownTurn(conversationId, async (unit) => {
        if (note) this.addToUnit(unit, { platform: this.platform, conversationId, kind: 'control', payload: { activityId: randomUUID(), reference, control: { note } } satisfies ControlEffect });
        const owner = await this.runtime.ownership.owner(this.connector.channelId, conversationId);
        await this.runTurn(activity, owner);
      });
    return this.runtime.scheduler.run(conversationId, turn);
  }

  // ---------------------------------------------------------------- proactive

  /** Runs `logic` (or the bot's) with an activity in the referenced conversation, in its order. */
  emitToBot(reference: Partial<ConversationReference>, activity: Partial<Activity>, logic?: BotLogic): Promise<void> {
    const full = TurnContext.applyConversationReference({ ...activity, timestamp: new Date(this.runtime.clock.now()) }, reference, true);
    full.channelId ??= this.connector.channelId;
    full.serviceUrl ??= this.connector.serviceUrl;
    return this.runProactive(full, logic);
  }

  private runProactive(activity: Partial<Activity>, logic?: BotLogic): Promise<void> {
    const conversationId = activity.conversation?.id;
    if (!conversationId) return Promise.reject(new InvalidRequestError(`${this.platform}_conversation_missing`, 'the reference has no conversation id'));
    const turn = async () => {
      const owner = activity.type === ActivityTypes.Message ? await this.runtime.ownership.owner(this.connector.channelId, conversationId) : 'bot';
      if (!logic) return this.runTurn(activity, owner);
      const context = new TurnContext(this.bot.adapter, activity);
      await this.bot.runMiddleware(context, logic);
    };
    return this.inConversationTurn(activity, turn);
  }

  /** Runs `turn` as a turn of the referenced conversation, in its order (inside it already: there). */
  private inConversationTurn(reference: Partial<ConversationReference> | Partial<Activity>, turn: () => Promise<void>): Promise<void> {
    const conversationId = reference.conversation?.id;
    if (!conversationId) return Promise.reject(new InvalidRequestError(`${this.platform}_conversation_missing`, 'the reference has no conversation id'));
    const scope = currentTurn();
    if (scope?.conversationId === conversationId) return scope.unit?.open ? turn() : this.ownTurn(conversationId, turn);
    return this.runtime.scheduler.run(conversationId, () => this.ownTurn(conversationId, turn));
  }

  /**
   * Sends a message outside any turn, now (a relayed ticket answer whose own outbox action retries it):
   * not through the bot's logic; errors reach the caller; the transcript records it.
   */
  async deliverNow(reference: Partial<ConversationReference>, activity: Partial<Activity>): Promise<string> {
    const full = TurnContext.applyConversationReference({ type: ActivityTypes.Message, ...activity }, reference, false);
    const conversationId = this.conversationIdOf(full);
    const id = await this.connector.sendMessage(full);
    await this.runtime.transcripts.append(this.connector.channelId, conversationId, botEntries([full], new Date(this.runtime.clock.now())));
    return id;
  }
}

/** A `handoff.status` event activity for a conversation. */
export function statusActivity(reference: Partial<ConversationReference>, value: HandoffStatus, at: Date): Partial<Activity> {
  const activity = TurnContext.applyConversationReference(
    { type: ActivityTypes.Event, name: HandoffEvents.Status, value, valueType: 'application/vnd.microsoft.handoff.status' },
    reference,
    true,
  );
  activity.id = `handoff-status:${randomUUID()}`;
  activity.timestamp = at;
  return activity;
}

/** The ids of the activities a turn is made of (a message that revealed a stretch's end is not its survey's answer). */
function during(events: PlannedEvent[]): string[] {
  return events.map((e) => e.activity.id).filter((id): id is string => typeof id === 'string');
}

/** A human agent's public message as a transcript line. */
function agentEntry(activity: Partial<Activity>): TranscriptEntry | undefined {
  if (activity.type !== ActivityTypes.Event || activity.name !== ConversationEvents.AgentMessage) return undefined;
  const value = activity.value as { text?: string; agent?: { name?: string | null } } | undefined;
  if (!value?.text) return undefined;
  return { role: 'agent', text: value.text.replace(/\s*\n+\s*/g, ' ').trim(), name: value.agent?.name ?? undefined, at: new Date(activity.timestamp ?? Date.now()).toISOString() };
}

/** A customer's message with text or files and no choice submitted (its ownership observations are applied in order). */
function isPlainMessage(event: PlannedEvent): boolean {
  const { activity } = event;
  return activity.type === ActivityTypes.Message && activity.from?.role !== 'bot' && activity.value === undefined && customerEntry(activity) !== undefined;
}

/** An activity read back from JSON (timestamps were Dates). */
function reviveActivity(activity: Partial<Activity>): Partial<Activity> {
  if (typeof activity.timestamp === 'string') activity.timestamp = new Date(activity.timestamp);
  return activity;
}

/** A stored event read back from JSON. */
export function revivePlannedEvent(event: PlannedEvent): PlannedEvent {
  reviveActivity(event.activity);
  return event;
}
