/**
 * `botbuilder-handoff-adapters/advanced`: the engine's parts, for those who compose it themselves
 * (the pipeline, the runtime, the stores, the platform clients, availability, ownership, metrics).
 */
export * from '../adapters/nimchat';
export {
  WoztellAdapter,
  type WoztellAdapterOptions,
  WoztellBotClient,
  WoztellOpenApiClient,
  WoztellInboxClient,
  signedContextHeaders,
  verifyWoztellSignature,
  signWoztellPayload,
  WOZTELL_CHANNEL_ID,
  WoztellConnector,
  type WoztellConnectorOptions,
  releaseEvents,
  type InboxCredentials,
  type InboxPaths,
} from '../adapters/woztell';
export { ChannelAdapter, type ChannelAdapterOptions } from './pipeline/channel-adapter';
export { ChannelPipeline, statusActivity, type BotLogic, type SilencedMessageDecision } from './pipeline/channel-pipeline';
export { PipelineRuntime, type PipelineRuntimeOptions } from './pipeline/pipeline-runtime';
export * from './pipeline/connector';
export { OutboxDelivery, type OutboxExecutor } from './outbox/outbox-delivery';
export { createStores, type Stores } from './storage/create-stores';
export * from '../dialogs';
export { addNativeChoices, type NativeChoices } from './pipeline/native-choices';
export type { Platform, PlatformContext, RunningPlatform, SandboxedPlatform, RouteDeclaration } from './platforms/platform';
export { defaultPlatforms } from '../adapters/platforms';
export { ERROR_CODES, type ErrorCode } from './error-codes';
export { App, type AppOptions, type BotDeps } from './app';
export { readConfig, HandoffPolicySchema, type Config, type ConfiguredPlatform, type HandoffPolicy } from './config';
export { loadConfig } from './load-config';
export { platformSettings, type PlatformSettings } from './platforms/platform-settings';
export { type NimchatConfig } from '../adapters/nimchat/config';
export * from './availability';
export { TimerRunner, type TimerRunnerOptions, type TimerHandler } from './timers/timer-runner';
export { MemoryTimerStore, type TimerStore, type NewTimer, type ClaimedTimer } from './storage/timer-store';
export * from './errors';
export { ConversationQueue } from './conversation-queue';
export { MemoryDedupeStore, type DedupeStore } from './storage/dedupe-store';
export * from './ownership';
export { PlatformHttpClient, type PlatformRequest } from './http/platform-http-client';
export { createLogger, type Logger } from './log';
export { Metrics } from './metrics';
export { SupportBot, WELCOME_BACK_TEXT, type SupportBotOptions } from './bot/support-bot';
export { SupportDialog } from './bot/support-dialog';
export * from '../adapters/inbenta';
