/**
 * What a platform gives the pipeline: a connector answers the pipeline's questions about a webhook
 * (pure, testable with plain data) and makes the platform calls for what a turn produced. A new
 * platform is one connector plus its clients.
 */
import type { Activity, Storage } from 'botbuilder-core';
import type { ConversationControl, HandoffRequest } from '../control/vocabulary';
import type { WebhookInput } from '../http/webhook-io';
import type { OwnershipEvent, OwnershipRecord } from '../ownership';
import type { StepProgress } from '../outbox/step-progress';
import type { SentEcho } from '../outbox/sent-messages';
import type { NativeChoices } from './native-choices';
import type { ErrorCode } from '../error-codes';

export { runStep, type StepProgress } from '../outbox/step-progress';

/** A refused webhook: the status and a JSON error naming the problem. */
export interface Refusal {
  status: number;
  code: ErrorCode;
  message: string;
}

/** One event a webhook carries, as the pipeline stores and later runs it (JSON-serialisable). */
export interface PlannedEvent {
  /** The queue key (our conversation id). */
  conversationId: string;
  /** Idempotency keys: a redelivery carrying any of them runs no second turn. */
  dedupeKeys: string[];
  /** What the payload tells about who owns the conversation, applied in order before the turn. */
  ownership: OwnershipEvent[];
  /** The activity of the turn. */
  activity: Partial<Activity>;
  /** Platform facts `prepare` needs later (kept with the event). */
  facts?: Record<string, string | number | boolean>;
}

/** `echo`: the platform's copy of a message the bot sent (kept as evidence of the send, see SentMessages). */
export type PlanResult = { refused: Refusal } | { ignored: string; echo?: SentEcho } | { event: PlannedEvent };

/** What a handoff did on the platform. */
export interface HandoffResult {
  /** The owner's platform status afterwards (Nimchat `open`, the WOZTELL folder). */
  platformStatus?: string;
  details?: Record<string, string | number | boolean>;
  /** The observation time to record, on the clock the platform's other observations use. */
  observedAt?: number;
  /** Told to the bot in `handoff.status accepted`. */
  message: string;
}

/** A platform's part in the satisfaction survey. */
export interface SurveySupport {
  /** Its own survey message (the answer comes back as a `conversation.satisfaction` event activity). */
  platformSurvey?: (question: string) => Partial<Activity>;
  /** Statuses a human ends their stretch with while keeping the conversation (Nimchat: `resolved`). */
  closedStatuses?: readonly string[];
  /** Whether the platform asked by itself since `sinceMs` (its own survey on resolve): the engine's question is then not sent. */
  askedSince?(conversationId: string, sinceMs: number): Promise<boolean>;
  /** How long after the customer's last message the platform still delivers (a messaging window). */
  replyWindowMs?: number;
}

export interface Connector {
  /** Lower-case platform name: metrics label, inbox and outbox key. */
  readonly platform: string;
  /** The activities' `channelId`. */
  readonly channelId: string;
  /** The `serviceUrl` of activities the pipeline makes itself (proactive). */
  readonly serviceUrl: string;
  /** The status the platform redelivers on (when the bot is shutting down or over its backlog). */
  readonly redeliverStatus: number;
  /** How the platform takes a prompt's choices natively (botbuilder's ListStyle.auto then renders them as actions). */
  readonly nativeChoices?: NativeChoices;
  /** What the platform offers the satisfaction survey after a human stretch. */
  readonly satisfaction?: SurveySupport;

  /** Authenticity of the request, before its body is read as JSON (pure): a refusal, or claims for `plan`. */
  authenticate(input: WebhookInput, nowMs: number): { refused: Refusal } | { claims?: Record<string, unknown> };
  /** Validates (zod) and plans the parsed body, once. */
  plan(body: unknown, input: WebhookInput, claims: Record<string, unknown> | undefined): PlanResult;
  /**
   * Inside the conversation's slot, before the turn: what only I/O can tell (a thread lookup, a stored
   * choice). Returns the event to run (its ownership events may grow).
   */
  prepare?(event: PlannedEvent, current: OwnershipRecord | undefined, storage: Storage): Promise<PlannedEvent>;

  /** Checks that a conversation id is one of this platform's; throws a clear error otherwise. */
  checkConversationId(conversationId: string): void;
  /**
   * Sends one message activity; resolves with the platform's id of it (of its last part, when it took
   * several requests; or the ids of every message one request created, space-separated). From the
   * outbox (`progress`): a
   * message an earlier attempt may have sent is looked for first (`runtime.sent`), when the platform
   * echoes the bot's messages.
   */
  sendMessage(activity: Partial<Activity>, progress?: StepProgress): Promise<string>;
  /** A typing indicator, best effort. */
  sendTyping?(activity: Partial<Activity>): Promise<void>;
  /** Parses a `conversation.control` value; fields the platform cannot carry out are an error naming them. */
  parseControl(value: unknown): ConversationControl;
  /** Carries out a handoff, step by step (steps already done are skipped). */
  handoff(conversationId: string, request: HandoffRequest, note: string, progress: StepProgress): Promise<HandoffResult>;
  /** Carries out a `conversation.control`, step by step. */
  control(conversationId: string, control: ConversationControl, progress: StepProgress): Promise<void>;
}
