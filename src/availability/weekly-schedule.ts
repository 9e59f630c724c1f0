/**
 * Business hours: per weekday the intervals a human can answer, in one time zone, and public holidays
 * (closed all day). Whether a moment is inside them, and when they open next.
 */
import { z } from 'zod';
import { addDays, isoDate, zonedInstant, zonedParts } from './zoned-time';

/** Minutes since local midnight: open from `open` (included) to `close` (excluded, 1440 = midnight). */
export const OpenIntervalSchema = z
  .object({ open: z.number().int().min(0).max(1439), close: z.number().int().min(1).max(1440) })
  .refine((i) => i.close > i.open, { message: 'an interval must close after it opens' });

export const HolidaySchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a holiday is a date written YYYY-MM-DD');

export const WeeklyScheduleSchema = z.object({
  /** An IANA time zone name (`Europe/Paris`, `UTC`). */
  timeZone: z.string().min(1),
  /** Index 0 = Sunday … 6 = Saturday; an empty list is a closed day. */
  days: z.array(z.array(OpenIntervalSchema)).length(7),
  /** Local dates on which it is closed all day. */
  holidays: z.array(HolidaySchema).default([]),
});

export type OpenInterval = z.infer<typeof OpenIntervalSchema>;
export type WeeklySchedule = z.infer<typeof WeeklyScheduleSchema>;

/** Open every day, all day (what holidays alone close). */
export function alwaysOpen(timeZone: string, holidays: string[] = []): WeeklySchedule {
  return { timeZone, days: Array.from({ length: 7 }, () => [{ open: 0, close: 1440 }]), holidays };
}

/** Why the schedule is closed at that moment, or undefined when it is open. */
export function closedReason(schedule: WeeklySchedule, ms: number): 'holiday' | 'closed' | undefined {
  const local = zonedParts(ms, schedule.timeZone);
  if (schedule.holidays.includes(isoDate(local))) return 'holiday';
  const minute = local.hour * 60 + local.minute;
  const open = (schedule.days[local.weekday] ?? []).some((i) => i.open <= minute && minute < i.close);
  return open ? undefined : 'closed';
}

export function isOpenAt(schedule: WeeklySchedule, ms: number): boolean {
  return closedReason(schedule, ms) === undefined;
}

/** The next moment after `ms` at which an interval opens (holidays skipped), or undefined when none does within a year. */
export function nextOpening(schedule: WeeklySchedule, ms: number): number | undefined {
  const local = zonedParts(ms, schedule.timeZone);
  const nowMinute = local.hour * 60 + local.minute;
  for (let d = 0; d <= 366; d++) {
    const date = addDays(local, d);
    if (schedule.holidays.includes(isoDate(date))) continue;
    const intervals = [...(schedule.days[date.weekday] ?? [])].sort((a, b) => a.open - b.open);
    for (const interval of intervals) {
      if (d === 0 && interval.open <= nowMinute) continue;
      // An interval that opens at midnight continues the day before when that one ran to midnight.
      const at = zonedInstant(schedule.timeZone, date, interval.open);
      if (at > ms) return at;
    }
  }
  return undefined;
}
