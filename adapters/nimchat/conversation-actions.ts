/**
 * What `handoff.initiate` and `conversation.control` mean on Nimchat, carried out with the bot token.
 * Handoff order: private note with reason and transcript → assignment (when configured)
 * → priority/labels → `toggle_status open` with the bot token (Nimchat records a bot handoff).
 */
import type { NimchatMessageSender } from './message-sender';
import { InvalidRequestError } from '../../src/errors';
import { parseControlFor, type ConversationControl, type HandoffRequest } from '../../src/control/vocabulary';
import type { NimchatClient, NimchatPriority } from './client';
import type { NimchatConversationKey } from './conversation-ref';
import { runStep, type StepProgress } from '../../src/pipeline/connector';

export interface NimchatHandoffDefaults {
  handoffTeamId?: number;
  handoffAgentId?: number;
  /** Where `reroute` sends a conversation nobody answered (else its agent is unassigned). */
  fallbackTeamId?: number;
}

const UNSUPPORTED_CONTROL_FIELDS = new Set(['folder', 'title']);

/** Parses a control value and refuses the fields Nimchat cannot carry out (folder, title), naming them. */
export function parseNimchatControl(value: unknown): ConversationControl {
  return parseControlFor('nimchat', value, (field) => !UNSUPPORTED_CONTROL_FIELDS.has(field));
}

function numericId(value: string | number, field: string): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0) throw new InvalidRequestError('nimchat_id_invalid', `${field} must be a Nimchat numeric id, got "${value}"`);
  return n;
}

export class NimchatConversationActions {
  constructor(
    private readonly client: NimchatClient,
    private readonly sender: NimchatMessageSender,
    private readonly defaults: NimchatHandoffDefaults,
  ) {}

  /** The Nimchat handoff, step by step (a retry resumes after the last step done); throws the first failure. */
  async handoff(key: NimchatConversationKey, request: HandoffRequest, note: string, progress: StepProgress): Promise<{ team?: string; agent?: string }> {
    const { accountId, conversationId } = key;
    // A note an earlier attempt may have posted is looked for by its echo first.
    await runStep(progress, 'note', () => this.sender.create(key, { content: note, private: true }, progress));
    const team = request.team ?? this.defaults.handoffTeamId;
    const agent = request.agent ?? this.defaults.handoffAgentId;
    // Team first: assigning a team may auto-assign inside it; an explicit agent then wins.
    if (team !== undefined) await runStep(progress, 'team', () => this.client.assign(accountId, conversationId, { teamId: numericId(team, 'team') }));
    if (agent !== undefined) await runStep(progress, 'agent', () => this.client.assign(accountId, conversationId, { assigneeId: numericId(agent, 'agent') }));
    if (request.priority) await runStep(progress, 'priority', () => this.client.togglePriority(accountId, conversationId, request.priority!));
    if (request.labels?.length) await runStep(progress, 'labels', () => this.mergeLabels(key, request.labels!, []));
    await runStep(progress, 'open', () => this.client.toggleStatus(accountId, conversationId, 'open'));
    return { ...(team !== undefined ? { team: String(team) } : {}), ...(agent !== undefined ? { agent: String(agent) } : {}) };
  }

  /** Carries out a `conversation.control`, step by step; the status change goes last (it fires events). */
  async control(key: NimchatConversationKey, control: ConversationControl, progress: StepProgress): Promise<void> {
    const { accountId, conversationId } = key;
    if (control.status === 'snoozed' && control.snoozedUntil === undefined) {
      throw new InvalidRequestError('control_invalid', 'status snoozed needs snoozedUntil (unix seconds)');
    }
    if (control.note) await runStep(progress, 'note', () => this.sender.create(key, { content: control.note!, private: true }, progress));
    if (control.reroute) await this.reroute(key, control.reroute.reason, progress);
    if (control.team !== undefined) {
      const team = control.team;
      await runStep(progress, 'team', () => this.client.assign(accountId, conversationId, { teamId: team === null ? null : numericId(team, 'team') }));
    }
    if (control.agent !== undefined) {
      const agent = control.agent;
      await runStep(progress, 'agent', () => this.client.assign(accountId, conversationId, { assigneeId: agent === null ? null : numericId(agent, 'agent') }));
    }
    if (control.priority !== undefined) await runStep(progress, 'priority', () => this.client.togglePriority(accountId, conversationId, control.priority as NimchatPriority | null));
    if (control.addLabels?.length || control.removeLabels?.length) {
      await runStep(progress, 'labels', () => this.mergeLabels(key, control.addLabels ?? [], control.removeLabels ?? []));
    }
    if (control.customAttributes) {
      // The endpoint replaces the whole hash: read, merge, write.
      await runStep(progress, 'attributes', async () => {
        const current = await this.client.getConversation(accountId, conversationId);
        await this.client.setCustomAttributes(accountId, conversationId, { ...(current.custom_attributes ?? {}), ...control.customAttributes });
      });
    }
    if (control.status) await runStep(progress, 'status', () => this.client.toggleStatus(accountId, conversationId, control.status!, control.snoozedUntil));
  }

  /**
   * Nobody answered: a private note saying so and what is done, then the fallback team, or (without
   * one) the agent unassigned so that Nimchat's auto-assignment tries someone else.
   */
  private async reroute(key: NimchatConversationKey, reason: string, progress: StepProgress): Promise<void> {
    const { accountId, conversationId } = key;
    const team = this.defaults.fallbackTeamId;
    const what = team !== undefined ? `Re-assigned to team ${team}.` : 'Unassigned, so that auto-assignment tries another agent.';
    await runStep(progress, 'reroute-note', () => this.sender.create(key, { content: `${reason} ${what}`, private: true }, progress));
    if (team !== undefined) await runStep(progress, 'reroute-team', () => this.client.assign(accountId, conversationId, { teamId: team }));
    else await runStep(progress, 'reroute-unassign', () => this.client.assign(accountId, conversationId, { assigneeId: null }));
  }

  /** Labels are replaced wholesale by the API: read, merge, write. */
  private async mergeLabels(key: NimchatConversationKey, add: string[], remove: string[]): Promise<void> {
    const current = await this.client.getLabels(key.accountId, key.conversationId);
    const next = [...new Set([...current, ...add])].filter((l) => !remove.includes(l));
    if (next.length === current.length && next.every((l, i) => l === current[i])) return;
    await this.client.setLabels(key.accountId, key.conversationId, next);
  }
}
