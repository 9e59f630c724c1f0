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
  type InboxCredentials,
  type InboxPaths,
} from '../adapters/woztell';
export { PlatformAdapter, type PlatformAdapterOptions } from './platform-adapter';
export * from '../dialogs';
export { App, type AppOptions } from './app';
export { loadConfig, type Config, type NimchatConfig } from './config';
export * from './errors';
export { ConversationQueue } from './conversation-queue';
export { MemoryDedupeStore, type DedupeStore } from './storage/dedupe-store';
export { OwnershipStore, type Owner, type OwnershipRecord } from './ownership';
export { PlatformHttpClient, type PlatformRequest } from './http/platform-http-client';
export { createLogger, type Logger } from './log';
export { Metrics } from './metrics';
export { SupportBot } from './bot/support-bot';
export { SupportDialog } from './bot/support-dialog';
export { NimchatSandbox } from './sandbox/nimchat/nimchat-sandbox';
export { WoztellSandbox } from './sandbox/woztell/woztell-sandbox';
export * from '../adapters/inbenta';
export { InbentaSandbox } from './sandbox/inbenta/inbenta-sandbox';
