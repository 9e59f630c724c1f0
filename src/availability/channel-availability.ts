/** Availability per channel: each platform's own answer, the configured hours for the others. */
import type { AvailabilityVerdict } from './availability-verdict';
import type { AvailabilityQuestion, HumanAvailability } from './human-availability';

export class ChannelAvailability implements HumanAvailability {
  constructor(
    private readonly byChannel: ReadonlyMap<string, HumanAvailability>,
    private readonly otherwise: HumanAvailability,
  ) {}

  async check(question: AvailabilityQuestion): Promise<AvailabilityVerdict> {
    const source = this.byChannel.get(question.activity.channelId ?? '') ?? this.otherwise;
    try {
      return await source.check(question);
    } catch (error) {
      return { state: 'unknown', source: question.activity.channelId ?? 'unknown', why: error instanceof Error ? error.message : String(error) };
    }
  }
}
