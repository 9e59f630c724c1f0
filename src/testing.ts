/** `botbuilder-handoff-adapters/testing`: sign webhooks as the platforms do, to drive the endpoints from your own tests. */
export { signNimchatPayload, createUrlToken } from '../adapters/nimchat/verify';
export { signWoztellPayload } from '../adapters/woztell/verify';
export type { WebhookInput, WebhookResult } from './http/webhook-io';
