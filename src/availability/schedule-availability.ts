/** Availability from configured business hours alone (WOZTELL, and the fallback of every platform). */
import { systemClock, type Clock } from '../clock';
import type { AvailabilityVerdict } from './availability-verdict';
import type { HumanAvailability } from './human-availability';
import { closedReason, nextOpening, type WeeklySchedule } from './weekly-schedule';

/** What a schedule says at a moment. */
export function scheduleVerdict(schedule: WeeklySchedule, now: number, source: string, message?: string): AvailabilityVerdict {
  const reason = closedReason(schedule, now);
  if (!reason) return { state: 'available', source };
  return { state: 'unavailable', reason, source, nextOpening: nextOpening(schedule, now), timeZone: schedule.timeZone, ...(message ? { message } : {}) };
}

export class ScheduleAvailability implements HumanAvailability {
  constructor(
    /** Absent: nothing is configured, so the answer is unknown. */
    private readonly schedule: WeeklySchedule | undefined,
    private readonly clock: Clock = systemClock,
  ) {}

  async check(): Promise<AvailabilityVerdict> {
    if (!this.schedule) return { state: 'unknown', source: 'hours', why: 'no business hours are configured' };
    return scheduleVerdict(this.schedule, this.clock.now(), 'hours');
  }
}
