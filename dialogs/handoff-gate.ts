/**
 * The handoff gate as middleware, for bots on adapters other than ours (ours gate each turn on the
 * owner they have just decided): while a human or a ticket owns the conversation, customer messages do
 * not reach the bot's logic, whatever dialog was running. Events still pass.
 */
import { ActivityTypes, type Middleware, type TurnContext } from 'botbuilder-core';
import type { Owner, OwnershipStore } from '../src/ownership';

export class HandoffGateMiddleware implements Middleware {
  constructor(
    private readonly ownership: OwnershipStore,
    /** Told of each message kept from the bot; `deliver` lets it through after all. */
    private readonly onSilenced?: (context: TurnContext, owner: Owner) => Promise<void | undefined | 'deliver'>,
  ) {}

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    const { activity } = context;
    if (activity.type === ActivityTypes.Message) {
      const owner = await this.ownership.owner(activity.channelId, activity.conversation.id);
      if (owner !== 'bot' && (await this.onSilenced?.(context, owner)) !== 'deliver') return;
    }
    await next();
  }
}
