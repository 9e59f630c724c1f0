/**
 * The botbuilder face of a pipeline: a `BotAdapter` with `process(req, res, logic)`,
 * `sendActivities`, `continueConversationAsync`, as users of botbuilder expect. Each platform's
 * adapter is this class given that platform's connector.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ActivityTypes, BotAdapter, type Activity, type ConversationReference, type ResourceResponse, type Storage, type TurnContext } from 'botbuilder-core';
import { NotSupportedError, unwrapTurnError } from '../errors';
import { answerWebhook, type WebhookInput, type WebhookResult } from '../http/webhook-io';
import type { Owner, OwnershipRecord } from '../ownership';
import { ChannelPipeline, type BotLogic, type SilencedMessageDecision } from './channel-pipeline';
import type { Connector } from './connector';
import { PipelineRuntime } from './pipeline-runtime';
import { addNativeChoices } from './native-choices';
import { tenantConnector } from '../tenants/tenant-connector';
import { platformLabels } from '../tenants/tenant-scope';

export interface ChannelAdapterOptions {
  /** Shared with the bot's other adapters (stores, queue, outbox); default: a runtime of its own on `memory:` stores. */
  runtime?: PipelineRuntime;
  /** The bot's logic for every turn; else the first `process` call's. */
  logic?: BotLogic;
  /** A customer message kept from the bot while a human or a ticket owns the conversation (`deliver`: it reaches the bot after all). */
  onSilencedMessage?: (context: TurnContext, owner: Owner) => Promise<SilencedMessageDecision>;
  /** The tenant this adapter serves (its ids are scoped, see src/tenants); none: the configuration from the environment. */
  tenant?: string;
}

export class ChannelAdapter extends BotAdapter {
  readonly pipeline: ChannelPipeline;
  readonly channelId: string;
  readonly tenant?: string;

  constructor(connector: Connector, options: ChannelAdapterOptions = {}) {
    super();
    const runtime = options.runtime ?? new PipelineRuntime();
    this.channelId = connector.channelId;
    this.tenant = options.tenant;
    if (options.tenant) connector = tenantConnector(connector, options.tenant);
    if (connector.nativeChoices) addNativeChoices(connector.channelId, connector.nativeChoices);
    this.pipeline = new ChannelPipeline(connector, runtime, { adapter: this, runMiddleware: (context, logic) => this.runMiddleware(context, logic) }, options);
    // First in the chain: every failure is counted and logged once, whatever onTurnError does with it.
    this.use({ onTurn: (context, next) => this.countTurnErrors(context, next) });
  }

  get runtime(): PipelineRuntime {
    return this.pipeline.runtime;
  }

  /** The Storage to give the bot's state: inside a turn, its writes are committed with the turn. */
  get storage(): Storage {
    return this.runtime.storage;
  }

  /** HTTP entry (botbuilder's `process(req, res, logic)` convention). */
  async process(req: IncomingMessage & { rawBody?: Buffer | string }, res: ServerResponse, logic: BotLogic): Promise<void> {
    this.pipeline.useLogic(logic);
    await answerWebhook(req, res, (input) => this.pipeline.handle(input), { platform: this.pipeline.platform, logger: this.runtime.logger, metrics: this.runtime.metrics });
  }

  /** Transport-free entry (tests, other servers). */
  handle(input: WebhookInput): Promise<WebhookResult> {
    return this.pipeline.handle(input);
  }

  async sendActivities(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    return this.pipeline.send(context, activities);
  }

  async updateActivity(): Promise<ResourceResponse | void> {
    throw new NotSupportedError(this.pipeline.platform, 'updating a sent message');
  }

  async deleteActivity(): Promise<void> {
    throw new NotSupportedError(this.pipeline.platform, 'deleting a sent message');
  }

  /** Runs `logic` with a `ContinueConversation` event in the referenced conversation, in its order. */
  async continueConversation(reference: Partial<ConversationReference>, logic: BotLogic): Promise<void> {
    return this.pipeline.emitToBot(reference, { type: ActivityTypes.Event, name: 'ContinueConversation' }, logic);
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

  /** Sends an event (e.g. `handoff.status`) into the bot's logic, in the conversation's order. */
  emitToBot(reference: Partial<ConversationReference>, activity: Partial<Activity>, logic?: BotLogic): Promise<void> {
    return this.pipeline.emitToBot(reference, activity, logic);
  }

  /**
   * The conversation's ticket was closed (`before`: its owner record while the ticket had it): the
   * satisfaction survey's question when it is on, in the conversation's order.
   */
  ticketClosed(reference: Partial<ConversationReference>, before: OwnershipRecord | undefined, ticketId: string): Promise<void> {
    return this.pipeline.ticketClosed(reference, before, ticketId);
  }

  /** Sends a message outside any turn, now; errors reach the caller (who retries); the transcript records it. */
  async deliverMessage(reference: Partial<ConversationReference>, activity: Partial<Activity>): Promise<ResourceResponse> {
    return { id: await this.pipeline.deliverNow(reference, activity) };
  }

  private async countTurnErrors(context: TurnContext, next: () => Promise<void>): Promise<void> {
    try {
      await next();
    } catch (error) {
      this.runtime.metrics?.turnErrors.inc(platformLabels(this.pipeline.platform));
      this.runtime.logger.error('turn failed', {
        platform: this.pipeline.platform,
        conversationId: context.activity.conversation?.id,
        activityType: context.activity.type,
        error: unwrapTurnError(error),
      });
      throw error;
    }
  }
}
