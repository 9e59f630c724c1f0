/**
 * Where a waiting customer is in the humans' queue, for the platforms that can know it (Nimchat with a
 * user token: the open, unassigned conversations created before this one). Undefined: not known.
 */
import type { Activity } from 'botbuilder-core';
import { channelKey } from '../tenants/tenant-scope';

export interface QueuePosition {
  /** 1 = next. Never throws: what cannot be told is undefined. */
  position(activity: Partial<Activity>): Promise<number | undefined>;
}

/** Per channel; channels without one know no position. */
export class ChannelQueuePosition implements QueuePosition {
  constructor(private readonly byChannel: ReadonlyMap<string, QueuePosition>) {}

  async position(activity: Partial<Activity>): Promise<number | undefined> {
    try {
      return await this.byChannel.get(channelKey(activity.channelId ?? '', activity.conversation?.id))?.position(activity);
    } catch {
      return undefined;
    }
  }
}
