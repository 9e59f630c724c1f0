/** Availability per channel (a tenant's channel is its own: `nimchat@acme`): each platform's own answer, the configured hours for the others. */
import type { AvailabilityVerdict } from './availability-verdict';
import type { AvailabilityQuestion, HumanAvailability } from './human-availability';
import { channelKey } from '../tenants/tenant-scope';

export class ChannelAvailability implements HumanAvailability {
  constructor(
    private readonly byChannel: ReadonlyMap<string, HumanAvailability>,
    private readonly otherwise: HumanAvailability,
  ) {}

  async check(question: AvailabilityQuestion): Promise<AvailabilityVerdict> {
    const source = this.byChannel.get(channelKey(question.activity.channelId ?? '', question.activity.conversation?.id)) ?? this.otherwise;
    try {
      return await source.check(question);
    } catch (error) {
      return { state: 'unknown', source: question.activity.channelId ?? 'unknown', why: error instanceof Error ? error.message : String(error) };
    }
  }
}
