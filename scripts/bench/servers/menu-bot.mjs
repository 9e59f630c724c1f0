// The peer's bot: a plain ActivityHandler answering every message with the menu (no dialogs, no state).
import { ActivityHandler, MessageFactory } from 'botbuilder';

const MENU = [
  { type: 'imBack', title: 'Talk to a human', value: 'human' },
  { type: 'imBack', title: 'Leave a message', value: 'ticket' },
];

export class MenuBot extends ActivityHandler {
  constructor() {
    super();
    this.onMessage(async (context, next) => {
      await context.sendActivity(MessageFactory.suggestedActions(MENU, 'How can I help you today?'));
      await next();
    });
  }
}
