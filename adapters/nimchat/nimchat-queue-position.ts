/**
 * A waiting customer's place in Nimchat's queue (with a user token): the open, unassigned
 * conversations of the same team (else inbox) created before this one, counted from the conversation
 * list, plus one. Unknown when the conversation already has an agent or the list cannot be read.
 */
import type { Activity } from 'botbuilder-core';
import { z } from 'zod';
import type { QueuePosition } from '../../src/availability/queue-position';
import { silentLogger, type Logger } from '../../src/log';
import { parseConversationId } from './conversation-ref';
import type { NimchatUserClient } from './user-client';
import { withoutTenant } from '../../src/tenants/tenant-scope';

const PAGE_SIZE = 25;

/** What the position needs from the conversation a webhook carried. */
const WaitingConversationSchema = z.looseObject({
  id: z.number(),
  inbox_id: z.number().optional(),
  status: z.string(),
  created_at: z.number(),
  meta: z
    .looseObject({
      assignee: z.looseObject({ id: z.number().optional() }).nullable().optional(),
      team: z.looseObject({ id: z.number().optional() }).nullable().optional(),
    })
    .optional(),
});

export interface NimchatQueuePositionOptions {
  client: NimchatUserClient;
  handoffTeamId?: number;
  /** Pages of the list read at most (default 20: 500 conversations). */
  maxPages?: number;
  logger?: Logger;
}

export class NimchatQueuePosition implements QueuePosition {
  private readonly logger: Logger;

  constructor(private readonly options: NimchatQueuePositionOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'nimchat-queue' });
  }

  async position(activity: Partial<Activity>): Promise<number | undefined> {
    const parsed = WaitingConversationSchema.safeParse((activity.channelData as { conversation?: unknown } | undefined)?.conversation);
    if (!parsed.success) return undefined;
    const conv = parsed.data;
    if (conv.meta?.assignee?.id !== undefined) return undefined;
    const { accountId } = parseConversationId(withoutTenant(activity.conversation?.id ?? ''));
    const teamId = conv.meta?.team?.id ?? this.options.handoffTeamId;
    const scope = teamId !== undefined ? { teamId } : conv.inbox_id !== undefined ? { inboxId: conv.inbox_id } : undefined;
    if (!scope) return undefined;
    let ahead = 0;
    try {
      for (let page = 1; page <= (this.options.maxPages ?? 20); page++) {
        const list = await this.options.client.listConversations(accountId, { status: 'open', assigneeType: 'unassigned', ...scope, page });
        ahead += list.filter((c) => c.id !== conv.id && (c.created_at < conv.created_at || (c.created_at === conv.created_at && c.id < conv.id))).length;
        if (list.length < PAGE_SIZE) break;
      }
    } catch (error) {
      this.logger.warn('could not read the queue', { conversationId: activity.conversation?.id, error });
      return undefined;
    }
    return ahead + 1;
  }
}
