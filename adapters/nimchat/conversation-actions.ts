/**
 * What `handoff.initiate` and `conversation.control` mean on Nimchat, carried out with the bot token.
 * Handoff order (DESIGN §5): private note with reason and transcript → assignment (when configured)
 * → priority/labels → `toggle_status open` with the bot token (Nimchat records a bot handoff).
 */
import { InvalidRequestError } from '../../src/errors';
import { parseControlFor, type ConversationControlValue, type HandoffRequestValue } from '../../dialogs/control-schemas';
import type { NimchatClient, NimchatPriority } from './client';
import type { NimchatConversationKey } from './conversation-ref';

export interface NimchatHandoffDefaults {
  handoffTeamId?: number;
  handoffAgentId?: number;
}

const UNSUPPORTED_CONTROL_FIELDS = new Set(['folder', 'title']);

/** Parses a control value and refuses the fields Nimchat cannot carry out (folder, title), naming them. */
export function parseNimchatControl(value: unknown): ConversationControlValue {
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
    private readonly defaults: NimchatHandoffDefaults,
  ) {}

  /** The Nimchat handoff; throws the first failure (the caller reports `handoff.status failed`). */
  async handoff(key: NimchatConversationKey, request: HandoffRequestValue, note: string): Promise<void> {
    const { accountId, conversationId } = key;
    await this.client.createMessage(accountId, conversationId, { content: note, private: true });
    const team = request.team ?? this.defaults.handoffTeamId;
    const agent = request.agent ?? this.defaults.handoffAgentId;
    // Team first: assigning a team may auto-assign inside it; an explicit agent then wins.
    if (team !== undefined) await this.client.assign(accountId, conversationId, { teamId: numericId(team, 'team') });
    if (agent !== undefined) await this.client.assign(accountId, conversationId, { assigneeId: numericId(agent, 'agent') });
    if (request.priority) await this.client.togglePriority(accountId, conversationId, request.priority);
    if (request.labels?.length) await this.mergeLabels(key, request.labels, []);
    await this.client.toggleStatus(accountId, conversationId, 'open');
  }

  /** Carries out a `conversation.control`; the status change goes last (it fires events). */
  async control(key: NimchatConversationKey, control: ConversationControlValue): Promise<void> {
    const { accountId, conversationId } = key;
    if (control.note) await this.client.createMessage(accountId, conversationId, { content: control.note, private: true });
    if (control.team !== undefined) {
      await this.client.assign(accountId, conversationId, { teamId: control.team === null ? null : numericId(control.team, 'team') });
    }
    if (control.agent !== undefined) {
      await this.client.assign(accountId, conversationId, { assigneeId: control.agent === null ? null : numericId(control.agent, 'agent') });
    }
    if (control.priority !== undefined) await this.client.togglePriority(accountId, conversationId, control.priority as NimchatPriority | null);
    if (control.addLabels?.length || control.removeLabels?.length) {
      await this.mergeLabels(key, control.addLabels ?? [], control.removeLabels ?? []);
    }
    if (control.customAttributes) {
      // The endpoint replaces the whole hash: read, merge, write.
      const current = await this.client.getConversation(accountId, conversationId);
      await this.client.setCustomAttributes(accountId, conversationId, { ...(current.custom_attributes ?? {}), ...control.customAttributes });
    }
    if (control.status) {
      if (control.status === 'snoozed' && control.snoozedUntil === undefined) {
        throw new InvalidRequestError('control_invalid', 'status snoozed needs snoozedUntil (unix seconds)');
      }
      await this.client.toggleStatus(accountId, conversationId, control.status, control.snoozedUntil);
    }
  }

  /** Labels are replaced wholesale by the API: read, merge, write. */
  private async mergeLabels(key: NimchatConversationKey, add: string[], remove: string[]): Promise<void> {
    const current = await this.client.getLabels(key.accountId, key.conversationId);
    const next = [...new Set([...current, ...add])].filter((l) => !remove.includes(l));
    if (next.length === current.length && next.every((l, i) => l === current[i])) return;
    await this.client.setLabels(key.accountId, key.conversationId, next);
  }
}
