/**
 * What `handoff.initiate` and `conversation.control` mean on WOZTELL, carried out with the Inbox
 * integration API. Handoff order: find the thread → title → folder → agent → internal note.
 */
import { parseControlFor, type ConversationControl, type HandoffRequest } from '../../src/control/vocabulary';
import type { WoztellInboxClient } from './client';
import type { WoztellConversationKey } from './conversation-ref';
import { runStep, type StepProgress } from '../../src/pipeline/connector';

export interface WoztellHandoffDefaults {
  handoffFolder: string;
  handoffAgentId?: string;
  /** Where `reroute` moves a thread nobody answered (else only the note is left). */
  fallbackFolder?: string;
  /** Folders that give the member back to the bot: a thread found there is not moved by `reroute`. */
  releaseFolders?: string[];
}

export interface HandoffOutcome {
  threadId?: string;
  folder: string;
  /** The agent assigned, when one was. */
  assignee?: string;
  /** Things that did not happen but did not stop the handoff (told to the agents in the note). */
  warnings: string[];
}

const SUPPORTED_CONTROL_FIELDS = new Set(['folder', 'title', 'agent', 'note', 'reroute']);

/** Parses a control value and refuses the fields WOZTELL cannot carry out, naming them. */
export function parseWoztellControl(value: unknown): ConversationControl {
  return parseControlFor('woztell', value, (field) => SUPPORTED_CONTROL_FIELDS.has(field));
}

export class WoztellConversationActions {
  constructor(
    private readonly inboxApi: WoztellInboxClient,
    private readonly defaults: WoztellHandoffDefaults,
  ) {}

  /** The WOZTELL handoff, step by step (a retry resumes after the last step done); throws the first refusal. */
  async handoff(key: WoztellConversationKey, request: HandoffRequest, note: string, progress: StepProgress): Promise<HandoffOutcome> {
    const { memberId, channelId } = key;
    const thread = await this.inboxApi.findThread({ memberId, channelId });
    const target = thread?.threadId ? { threadId: thread.threadId } : { memberId };
    const warnings: string[] = [];
    if (!thread) warnings.push('No Inbox thread was listed for this member; the calls below used the member id.');

    if (request.title) await runStep(progress, 'title', () => this.inboxApi.updateThreadTitle(target, request.title!));
    const folder = request.folder ?? this.defaults.handoffFolder;
    await runStep(progress, 'folder', () => this.inboxApi.updateThreadFolder(memberId, folder));

    let assignee: string | undefined;
    const agent = request.agent !== undefined ? String(request.agent) : this.defaults.handoffAgentId;
    if (agent) {
      if (progress.done('agent')) assignee = agent;
      else if (!progress.done('agent-unassigned')) {
        // Only an agent who can see the folder can work the thread.
        const users = await this.inboxApi.listAllUsers({ folderId: folder, channelId }, { stopWhen: (u) => u.userId === agent });
        if (users.some((u) => u.userId === agent)) {
          await runStep(progress, 'agent', () => this.inboxApi.updateThreadAgent(memberId, agent));
          assignee = agent;
        } else await progress.mark('agent-unassigned');
      }
      if (!assignee) warnings.push(`Agent ${agent} cannot see folder "${folder}", so the thread was left unassigned.`);
    }

    await runStep(progress, 'note', () => this.inboxApi.internalMessage(target, warnings.length > 0 ? `${note}\n\n${warnings.join('\n')}` : note));
    return { threadId: thread?.threadId, folder, assignee, warnings };
  }

  /** Carries out a `conversation.control` (folder, title, agent, note, reroute), step by step. */
  async control(key: WoztellConversationKey, control: ConversationControl, progress: StepProgress): Promise<void> {
    const { memberId } = key;
    if (control.note) await runStep(progress, 'note', () => this.inboxApi.internalMessage({ memberId }, control.note!));
    if (control.reroute) await this.reroute(key, control.reroute.reason, progress);
    if (control.title) await runStep(progress, 'title', () => this.inboxApi.updateThreadTitle({ memberId }, control.title!));
    if (control.agent !== undefined) {
      const agent = control.agent;
      await runStep(progress, 'agent', () => this.inboxApi.updateThreadAgent(memberId, agent === null ? null : String(agent)));
    }
    if (control.folder) await runStep(progress, 'folder', () => this.inboxApi.updateThreadFolder(memberId, control.folder!));
  }

  /**
   * Nobody answered: the thread goes to the fallback folder with an internal note saying why. WOZTELL
   * tells nobody when an agent moves a thread, so it is looked up first: one already given back to the
   * bot (a release folder) stays where it is.
   */
  private async reroute(key: WoztellConversationKey, reason: string, progress: StepProgress): Promise<void> {
    const { memberId, channelId } = key;
    const folder = this.defaults.fallbackFolder;
    if (!folder) {
      await runStep(progress, 'reroute-note', () => this.inboxApi.internalMessage({ memberId }, reason));
      return;
    }
    if (!progress.done('reroute-note')) {
      const thread = await this.inboxApi.findThread({ memberId, channelId });
      if (thread?.folder && (this.defaults.releaseFolders ?? []).includes(thread.folder)) return;
      if (thread?.folder === folder) {
        await runStep(progress, 'reroute-note', () => this.inboxApi.internalMessage({ memberId }, reason));
        return;
      }
    }
    await runStep(progress, 'reroute-note', () => this.inboxApi.internalMessage({ memberId }, `${reason} Moved to folder "${folder}".`));
    await runStep(progress, 'reroute-folder', () => this.inboxApi.updateThreadFolder(memberId, folder));
  }
}
