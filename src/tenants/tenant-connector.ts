/**
 * A platform's connector serving one tenant: the platform's code sees its own ids, the engine sees the
 * tenant's (see tenant-scope). What comes in is scoped; what goes out must be the tenant's own and is
 * unscoped, so this tenant's credentials can never act on another tenant's conversation.
 */
import type { Activity } from 'botbuilder-core';
import type { Connector, PlanResult } from '../pipeline/connector';
import { platformKey, scopeEvent, unscopedId, unscopeEvent } from './tenant-scope';

export function tenantConnector(inner: Connector, tenant: string): Connector {
  const own = (id: string) => unscopedId(tenant, id);
  const outgoing = (activity: Partial<Activity>): Partial<Activity> =>
    activity.conversation ? { ...activity, conversation: { ...activity.conversation, id: own(activity.conversation.id) } } : activity;
  const satisfaction = inner.satisfaction && {
    ...inner.satisfaction,
    askedSince: inner.satisfaction.askedSince && ((conversationId: string, sinceMs: number) => inner.satisfaction!.askedSince!(own(conversationId), sinceMs)),
  };
  return {
    platform: platformKey(inner.platform, tenant),
    channelId: inner.channelId,
    serviceUrl: inner.serviceUrl,
    redeliverStatus: inner.redeliverStatus,
    nativeChoices: inner.nativeChoices,
    satisfaction,
    authenticate: (input, nowMs) => inner.authenticate(input, nowMs),
    plan(body, input, claims): PlanResult {
      const planned = inner.plan(body, input, claims);
      // An echo stays in the platform's ids: the sender looks for it under this tenant's platform key.
      return 'event' in planned ? { event: scopeEvent(tenant, planned.event) } : planned;
    },
    prepare: inner.prepare && (async (event, current, storage) => scopeEvent(tenant, await inner.prepare!(unscopeEvent(tenant, event), current, storage))),
    checkConversationId: (conversationId) => inner.checkConversationId(own(conversationId)),
    sendMessage: (activity, progress) => inner.sendMessage(outgoing(activity), progress),
    sendTyping: inner.sendTyping && ((activity) => inner.sendTyping!(outgoing(activity))),
    parseControl: (value) => inner.parseControl(value),
    handoff: (conversationId, request, note, progress) => inner.handoff(own(conversationId), request, note, progress),
    control: (conversationId, control, progress) => inner.control(own(conversationId), control, progress),
  };
}
