export { WoztellAdapter, type WoztellAdapterOptions } from './woztell-adapter';
export {
  WoztellBotClient,
  WoztellOpenApiClient,
  WoztellInboxClient,
  signedContextHeaders,
  DEFAULT_INBOX_PATHS,
  type InboxCredentials,
  type InboxPaths,
} from './client';
export { WOZTELL_CHANNEL_ID, toConversationId, parseConversationId, type WoztellConversationKey } from './conversation-ref';
export { planIncoming, normaliseTimestamp } from './convert-incoming';
export { toWoztellResponses, matchNumberedChoice } from './convert-outgoing';
export { parseWoztellControl } from './conversation-actions';
export { releaseEvents, type ReleaseRules, type ThreadObservation } from './ownership-rules';
export { WoztellConnector, type WoztellConnectorOptions } from './woztell-connector';
export { parseWoztellWebhook } from './schemas';
export { verifyWoztellSignature, signWoztellPayload } from './verify';
