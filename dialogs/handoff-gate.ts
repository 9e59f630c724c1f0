/**
 * The handoff gate: while a human (or a ticket) owns the conversation, customer messages do not reach
 * the bot's logic, whatever dialog was running. Events (handoff.status, conversation updates) still
 * pass, so the bot can learn that it owns the conversation again.
 */
import { ActivityTypes, type Middleware, type TurnContext } from 'botbuilder-core';
import type { Owner, OwnershipStore } from '../src/ownership';

export class HandoffGateMiddleware implements Middleware {
  constructor(
    private readonly ownership: OwnershipStore,
    /** Told of each message kept from the bot (a ticket adds it to itself). */
    private readonly onSilenced?: (context: TurnContext, owner: Owner) => Promise<void>,
  ) {}

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    const { activity } = context;
    if (activity.type === ActivityTypes.Message) {
      const known = context.turnState.get(HandoffGateMiddleware.knownOwnerKey) as Owner | undefined;
      const owner = known ?? (await this.ownership.owner(activity.channelId, activity.conversation.id));
      if (owner !== 'bot') {
        context.turnState.set(HandoffGateMiddleware.silencedKey, owner);
        await this.onSilenced?.(context, owner);
        return;
      }
    }
    await next();
  }

  /** turnState key set when the gate kept a message from the bot (value: the owner). */
  static readonly silencedKey = Symbol('handoffGateSilenced');

  /** turnState key an adapter sets when it has just decided the owner for this turn (no second read). */
  static readonly knownOwnerKey = Symbol('handoffGateKnownOwner');
}
