/** Public surface of the Nimchat adapter. */
export { NimchatAdapter, type NimchatAdapterOptions, type BotLogic } from './nimchat-adapter';
export { NimchatClient, NimchatAdminClient, type OutgoingMessage } from './client';
export { NIMCHAT_CHANNEL_ID, toConversationId, parseConversationId } from './conversation-ref';
export { planIncoming, type IncomingPlan } from './convert-incoming';
export { toNimchatMessages } from './convert-outgoing';
export { NimchatConnector, type NimchatConnectorOptions } from './nimchat-connector';
export type { NimchatObservation } from './convert-incoming';
export { parseNimchatWebhook } from './schemas';
export { NimchatUserClient, type ConversationListFilters } from './user-client';
export { NimchatAvailability, inboxSchedule, type NimchatAvailabilityOptions } from './nimchat-availability';
export { NimchatQueuePosition, type NimchatQueuePositionOptions } from './nimchat-queue-position';
export { signNimchatPayload, verifyNimchatSignature, createUrlToken, verifyUrlToken } from './verify';
export { registerAgentBot, buildOutgoingUrl, isPrivateHost, RegistrationFailedError, type RegisterResult } from './register';
