/**
 * botbuilder-handoff-adapters: serve your botbuilder bot on Nimchat, WOZTELL and Inbenta tickets,
 * with handoff to humans. What a bot developer uses; the engine's parts are under
 * `botbuilder-handoff-adapters/advanced`, the emulated platforms under `…/sandbox`, signing helpers
 * for tests under `…/testing`.
 */

// ---------------------------------------------------------------- serve your bot
export { serve, type ServeOptions } from './hosting/serve';
export { App, type AppOptions } from './app';
export type { BotSource, BotDeps, BotFactory, RunnableBot, BotLogic } from './hosting/hosted-bot';
export { type Config } from './config';
export { loadConfig } from './load-config';

// ---------------------------------------------------------------- your own web server
export { restifyRoute, expressRoute, fastifyRoute, nodeHttpRoute, type WebhookHandler } from './http/frameworks';
export type { WebhookInput, WebhookResult } from './http/webhook-io';

// ---------------------------------------------------------------- the adapters (botbuilder BotAdapters)
export { NimchatAdapter, type NimchatAdapterOptions } from '../adapters/nimchat/nimchat-adapter';
export { WoztellAdapter, type WoztellAdapterOptions } from '../adapters/woztell/woztell-adapter';

// ---------------------------------------------------------------- dialogs to extend
export { HandoffDialog, type HandoffDialogOptions, type HandoffDialogArgs, type ClosedText } from '../dialogs/handoff-dialog';
export { HandoffInterruptibleDialog, type HandoffInterruptibleOptions } from '../dialogs/handoff-interruptible-dialog';
export { HandoffRequestMiddleware, type HandoffRequestMiddlewareOptions } from '../dialogs/handoff-request-middleware';
export { recognizeHandoffRequest, type HandoffRecognizer, type HandoffRecognizerInput } from '../dialogs/handoff-recognizer';
export { HandoffGateMiddleware } from '../dialogs/handoff-gate';
export { TicketDialog, HUMAN_CHOICE, TICKET_CHOICE, type TicketDialogOptions } from '../dialogs/ticket-dialog';
export { deskServes, type TicketDesk, type TicketRequest, type TicketCreated } from '../dialogs/ticket-desk';
export { NoAnswerDialog } from '../dialogs/handoff-wait/no-answer-dialog';
export { SupportBot, type SupportBotOptions } from './bot/support-bot';
// An Agents SDK agent runs these dialogs through AgentDialogs (the example bot on that SDK: `…/agents-sdk`).
export { AgentDialogs } from './agents-sdk/agent-dialogs';
export { SupportDialog, MENU_TEXT } from './bot/support-dialog';

// ---------------------------------------------------------------- the conversation-control vocabulary
// A tenant's conversation ids carry its id (`acme/3:42`): whose a conversation is.
export { tenantOf } from './tenants/tenant-scope';
export { HandoffEvents, ConversationEvents, SatisfactionSchema, type HandoffRequest, type HandoffStatus, type HandoffWaiting, type ConversationControl, type DeliveryFailure, type Satisfaction, type Stretch } from './control/vocabulary';
export { CopilotStudioContextSchema, type CopilotStudioContext } from './control/copilot-context';
export { DEFAULT_SATISFACTION_TEXTS, type SatisfactionOptions, type SatisfactionTexts } from './satisfaction/satisfaction-survey';
export { promptInView, type PromptInView } from './control/prompt-in-view';

// ---------------------------------------------------------------- errors
export { HandoffError, PlatformApiError, PlatformNetworkError, ConfigError, StartupError, NotSupportedError, InvalidRequestError, WebhookRejectedError } from './errors';
