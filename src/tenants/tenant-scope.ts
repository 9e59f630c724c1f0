/**
 * How a tenant's things are told apart from another's on one endpoint. A tenant's conversation ids,
 * user ids and idempotency keys carry its id as a prefix (`acme/1:42`), so every store keyed by them
 * (bot state, transcripts, ownership, timeline, dedupe) keeps tenants apart without knowing of them; its
 * platform key (`nimchat@acme`) names its pipeline's inbox, outbox and executors. Without a tenant (the
 * configuration from the environment) ids and keys are what they always were.
 */
import { z } from 'zod';
import { InvalidRequestError } from '../errors';
import type { PlannedEvent } from '../pipeline/connector';

/** A tenant's id: lower case letters, digits and dashes (it appears in URLs, keys and metric labels). */
export const TenantIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a tenant id is 1–40 lower-case letters, digits and dashes, starting with a letter or digit');
export type TenantId = z.infer<typeof TenantIdSchema>;

const SEPARATOR = '/';

/** `<tenant>/<id>`; the id itself without a tenant. */
export function scopedId(tenant: string | undefined, id: string): string {
  return tenant ? `${tenant}${SEPARATOR}${id}` : id;
}

/**
 * The tenant a scoped id belongs to (undefined: none). Platform ids never hold a `/` (Nimchat's are
 * `<account>:<number>`, WOZTELL's `<channel>:<member>`), so the prefix is unambiguous.
 */
export function tenantOf(id: string | undefined): string | undefined {
  if (!id) return undefined;
  const at = id.indexOf(SEPARATOR);
  return at > 0 ? id.slice(0, at) : undefined;
}

/** The platform's own id inside a scoped id of `tenant`; a clear error for another tenant's (or none). */
export function unscopedId(tenant: string | undefined, id: string): string {
  if (!tenant) {
    if (tenantOf(id) !== undefined) throw new InvalidRequestError('tenant_mismatch', `"${id}" is a tenant's conversation; this adapter serves no tenant`);
    return id;
  }
  const prefix = `${tenant}${SEPARATOR}`;
  if (!id.startsWith(prefix)) throw new InvalidRequestError('tenant_mismatch', `"${id}" is not a conversation of tenant "${tenant}"`);
  return id.slice(prefix.length);
}

/** The platform's own id in a scoped id of any tenant (asked of a tenant's own lookups: its instance was chosen by the id's tenant). */
export function withoutTenant(id: string): string {
  const tenant = tenantOf(id);
  return tenant ? id.slice(tenant.length + 1) : id;
}

/** A platform's key in the engine (inbox, outbox, executors, timeline): `nimchat`, or `nimchat@acme` for a tenant. */
export function platformKey(platform: string, tenant: string | undefined): string {
  return tenant ? `${platform}@${tenant}` : platform;
}

/** The metric labels of a platform key: the platform, and the tenant when there is one. */
export function platformLabels(key: string): { platform: string; tenant?: string } {
  const at = key.indexOf('@');
  return at > 0 ? { platform: key.slice(0, at), tenant: key.slice(at + 1) } : { platform: key };
}

/** A channel of a tenant: `nimchat`, `nimchat@acme` (what per-channel lookups are keyed by). */
export function channelKey(channelId: string, conversationId: string | undefined): string {
  return platformKey(channelId, tenantOf(conversationId));
}

/** A platform's planned event in a tenant's scope: its conversation, its user and its idempotency keys. */
export function scopeEvent(tenant: string | undefined, event: PlannedEvent): PlannedEvent {
  if (!tenant) return event;
  const { activity } = event;
  return {
    ...event,
    conversationId: scopedId(tenant, event.conversationId),
    dedupeKeys: event.dedupeKeys.map((key) => scopedId(tenant, key)),
    activity: {
      ...activity,
      conversation: activity.conversation ? { ...activity.conversation, id: scopedId(tenant, activity.conversation.id) } : activity.conversation,
      from: activity.from ? { ...activity.from, id: scopedId(tenant, activity.from.id) } : activity.from,
    },
  };
}

/** The reverse of `scopeEvent`, for the platform's code (`prepare`). */
export function unscopeEvent(tenant: string | undefined, event: PlannedEvent): PlannedEvent {
  if (!tenant) return event;
  const strip = (id: string) => (id.startsWith(`${tenant}${SEPARATOR}`) ? id.slice(tenant.length + 1) : id);
  const { activity } = event;
  return {
    ...event,
    conversationId: unscopedId(tenant, event.conversationId),
    dedupeKeys: event.dedupeKeys.map(strip),
    activity: {
      ...activity,
      conversation: activity.conversation ? { ...activity.conversation, id: strip(activity.conversation.id) } : activity.conversation,
      from: activity.from ? { ...activity.from, id: strip(activity.from.id) } : activity.from,
    },
  };
}
