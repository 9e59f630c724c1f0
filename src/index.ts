/** Public surface of botbuilder-handoff-adapters. */
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
export { ChannelPipeline, statusActivity, type BotLogic } from './pipeline/channel-pipeline';
export { PipelineRuntime, type PipelineRuntimeOptions } from './pipeline/pipeline-runtime';
export * from './pipeline/connector';
export { OutboxDelivery, type OutboxExecutor } from './outbox/outbox-delivery';
export { createStores, type Stores } from './storage/create-stores';
export * from '../dialogs';
export { App, type AppOptions } from './app';
export { loadConfig, type Config, type NimchatConfig } from './config';
export * from './errors';
export { ConversationQueue } from './conversation-queue';
export { MemoryDedupeStore, type DedupeStore } from './storage/dedupe-store';
export * from './ownership';
export { PlatformHttpClient, type PlatformRequest } from './http/platform-http-client';
export { createLogger, type Logger } from './log';
export { Metrics } from './metrics';
export { SupportBot } from './bot/support-bot';
export { SupportDialog } from './bot/support-dialog';
export { NimchatSandbox } from './sandbox/nimchat/nimchat-sandbox';
export { WoztellSandbox } from './sandbox/woztell/woztell-sandbox';
export * from '../adapters/inbenta';
export { InbentaSandbox } from './sandbox/inbenta/inbenta-sandbox';
