/**
 * This package's dialogs (the handoff, ticket and no-answer dialogs, and any dialog of yours built on
 * them) run from a Microsoft 365 Agents SDK agent's routes. The dialogs are botbuilder-dialogs, one
 * behaviour for both SDKs: each call runs them on the engine's botbuilder turn under the agent's turn
 * context (what they send goes through the same turn, its unit of work and the outbox), and keeps
 * their stack in the engine's storage, committed with the turn. A botbuilder bot may use it too.
 *
 *   const dialogs = new AgentDialogs(deps.storage, [new SupportDialog({ handoff, ticket })]);
 *   app.onActivity('message', (context) => dialogs.continueOrBegin(context, SupportDialog.defaultId));
 */
import { ConversationState, type Storage } from 'botbuilder-core';
import { DialogSet, DialogTurnStatus, type Dialog, type DialogContext, type DialogState, type DialogTurnResult } from 'botbuilder-dialogs';
import { engineTurnOf } from './agents-sdk-bot';

/** The conversation-state property the dialog stack is kept in by default. */
export const AGENT_DIALOG_STATE = 'agentDialogState';

export class AgentDialogs {
  private readonly state: ConversationState;
  private readonly dialogs: DialogSet;

  /**
   * @param storage the engine's storage (`deps.storage` of `createBot`): the stack is then committed
   *   with each turn, exactly once.
   * @param dialogs the dialogs to run (each added to one DialogSet).
   * @param property the conversation-state property the stack is kept in.
   */
  constructor(storage: Storage, dialogs: Dialog[], property: string = AGENT_DIALOG_STATE) {
    this.state = new ConversationState(storage);
    this.dialogs = new DialogSet(this.state.createProperty<DialogState>(property));
    for (const dialog of dialogs) this.dialogs.add(dialog);
  }

  /** Continues the active dialog, or begins `dialogId` (with `options`) when none is active. */
  continueOrBegin(context: object, dialogId: string, options?: object): Promise<DialogTurnResult> {
    return this.withDialogs(context, async (dc) => {
      const result = await dc.continueDialog();
      return result.status === DialogTurnStatus.empty ? dc.beginDialog(dialogId, options) : result;
    });
  }

  /** Ends whatever is active and begins `dialogId`. */
  restart(context: object, dialogId: string, options?: object): Promise<DialogTurnResult> {
    return this.withDialogs(context, async (dc) => {
      await dc.cancelAllDialogs();
      return dc.beginDialog(dialogId, options);
    });
  }

  /** Forgets the stack: the next message starts afresh (a human's stretch is over). */
  clear(context: object): Promise<void> {
    return this.withDialogs(context, async (dc) => {
      await dc.cancelAllDialogs();
    });
  }

  /** Anything else on the stack, with the same turn and the same save. */
  async withDialogs<T>(context: object, work: (dc: DialogContext) => Promise<T>): Promise<T> {
    const turn = engineTurnOf(context);
    const dc = await this.dialogs.createContext(turn);
    const result = await work(dc);
    await this.state.saveChanges(turn, false);
    return result;
  }
}
