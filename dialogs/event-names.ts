/**
 * The conversation-control vocabulary (DESIGN §4). `handoff.initiate` / `handoff.status` are
 * botbuilder's own; the rest are ours, platform neutral.
 */
export const HandoffEvents = {
  /** Bot → adapter: hand the conversation to a human (botbuilder's standard name). */
  Initiate: 'handoff.initiate',
  /** Adapter → bot: `{state: accepted|failed|completed, message?}` (botbuilder's standard name). */
  Status: 'handoff.status',
} as const;

export const ConversationEvents = {
  /**
   * Bot → adapter: control outside a handoff. Value: `ConversationControl`. Fields a platform cannot
   * carry out are an error naming them.
   */
  Control: 'conversation.control',
  /** Adapter → bot: the platform changed the conversation (status, assignee, team, labels …). */
  Updated: 'conversation.updated',
  /** Adapter → bot: a human agent wrote to the customer; the bot goes silent. */
  AgentMessage: 'conversation.agentMessage',
  /** Adapter → bot: the customer opened the web widget (may repeat; greet idempotently). */
  WidgetOpened: 'conversation.widgetOpened',
} as const;

export type HandoffState = 'accepted' | 'failed' | 'completed';

export interface HandoffStatusValue {
  state: HandoffState;
  message?: string;
}

/** The `handoff.initiate` value: every field optional; platforms ignore what they have no use for. */
export interface HandoffRequest {
  team?: string | number;
  agent?: string | number;
  folder?: string;
  priority?: 'low' | 'medium' | 'high' | 'urgent';
  labels?: string[];
  title?: string;
  reason?: string;
}

/** The `conversation.control` value. */
export interface ConversationControl {
  /** Nimchat: open, resolved, pending, snoozed. */
  status?: string;
  /** Unix seconds, with status `snoozed`. */
  snoozedUntil?: number;
  priority?: 'low' | 'medium' | 'high' | 'urgent' | null;
  /** Assign a human agent (null unassigns). */
  agent?: string | number | null;
  team?: string | number | null;
  addLabels?: string[];
  removeLabels?: string[];
  /** Merged into the conversation's custom attributes. */
  customAttributes?: Record<string, unknown>;
  /** An internal note only agents see. */
  note?: string;
  /** WOZTELL: move the thread to this folder. */
  folder?: string;
  /** WOZTELL: thread title. */
  title?: string;
}
