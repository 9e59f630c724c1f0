/**
 * What `handoff.initiate` and `conversation.control` mean on WOZTELL, carried out with the Inbox
 * integration API. Handoff order (DESIGN §4): find the thread → title → folder → agent → internal note.
 */
import { parseControlFor, type ConversationControlValue, type HandoffRequestValue } from '../../dialogs/control-schemas';
import type { WoztellInboxClient } from './client';
import type { WoztellConversationKey } from './conversation-ref';

export interface WoztellHandoffDefaults {
  handoffFolder: string;
  handoffAgentId?: string;
}

export interface HandoffOutcome {
  threadId?: string;
  folder: string;
  /** The agent assigned, when one was. */
  assignee?: string;
  /** Things that did not happen but did not stop the handoff (told to the agents in the note). */
  warnings: string[];
}

const SUPPORTED_CONTROL_FIELDS = new Set(['folder', 'title', 'agent', 'note']);

/** Parses a control value and refuses the fields WOZTELL cannot carry out, naming them. */
export function parseWoztellControl(value: unknown): ConversationControlValue {
  return parseControlFor('woztell', value, (field) => SUPPORTED_CONTROL_FIELDS.has(field));
}

export class WoztellConversationActions {
  constructor(
    private readonly inbox: WoztellInboxClient,
    private readonly defaults: WoztellHandoffDefaults,
  ) {}

  /** The WOZTELL handoff; throws the first refusal (the caller reports `handoff.status failed`). */
  async handoff(key: WoztellConversationKey, request: HandoffRequestValue, note: string): Promise<HandoffOutcome> {
    const { memberId, channelId } = key;
    const thread = await this.inbox.findThread({ memberId, channelId });
    const target = thread?.threadId ? { threadId: thread.threadId } : { memberId };
    const warnings: string[] = [];
    if (!thread) warnings.push('No Inbox thread was listed for this member; the calls below used the member id.');

    if (request.title) await this.inbox.updateThreadTitle(target, request.title);
    const folder = request.folder ?? this.defaults.handoffFolder;
    await this.inbox.updateThreadFolder(memberId, folder);

    let assignee: string | undefined;
    const agent = request.agent !== undefined ? String(request.agent) : this.defaults.handoffAgentId;
    if (agent) {
      // Only an agent who can see the folder can work the thread (woztell.md §5).
      const users = await this.inbox.listAllUsers({ folderId: folder, channelId }, { stopWhen: (u) => u.userId === agent });
      if (users.some((u) => u.userId === agent)) {
        await this.inbox.updateThreadAgent(memberId, agent);
        assignee = agent;
      } else {
        warnings.push(`Agent ${agent} cannot see folder "${folder}", so the thread was left unassigned.`);
      }
    }

    await this.inbox.internalMessage(target, warnings.length > 0 ? `${note}\n\n${warnings.join('\n')}` : note);
    return { threadId: thread?.threadId, folder, assignee, warnings };
  }

  /** Carries out a `conversation.control` (folder, title, agent, note). */
  async control(key: WoztellConversationKey, control: ConversationControlValue): Promise<void> {
    const { memberId } = key;
    if (control.note) await this.inbox.internalMessage({ memberId }, control.note);
    if (control.title) await this.inbox.updateThreadTitle({ memberId }, control.title);
    if (control.agent !== undefined) await this.inbox.updateThreadAgent(memberId, control.agent === null ? null : String(control.agent));
    if (control.folder) await this.inbox.updateThreadFolder(memberId, control.folder);
  }
}
