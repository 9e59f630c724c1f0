/**
 * The business hours' variables (HANDOFF_HOURS, HANDOFF_TIMEZONE, HANDOFF_HOLIDAYS): the environment's,
 * and a tenant's own in the tenants file. Read the same way for both.
 */
import { z } from 'zod';
import { optionalText } from '../env-values';
import { parseHolidays, parseHours } from './parse-hours';
import { alwaysOpen, type WeeklySchedule } from './weekly-schedule';
import { isTimeZone } from './zoned-time';

export const BusinessHoursVariables = z.object({
  HANDOFF_HOURS: optionalText.transform((s, ctx) => {
    if (s === undefined) return undefined;
    const parsed = parseHours(s);
    if (!parsed.ok) {
      for (const problem of parsed.problems) ctx.addIssue({ code: 'custom', message: `HANDOFF_HOURS: ${problem}` });
      return z.NEVER;
    }
    return parsed.days;
  }),
  HANDOFF_TIMEZONE: optionalText
    .refine((s) => s === undefined || isTimeZone(s), { message: 'HANDOFF_TIMEZONE must be an IANA time zone name such as Europe/Paris or UTC' })
    .transform((s) => s ?? 'UTC'),
  HANDOFF_HOLIDAYS: optionalText.transform((s, ctx) => {
    if (s === undefined) return [];
    const parsed = parseHolidays(s);
    if (!parsed.ok) {
      for (const problem of parsed.problems) ctx.addIssue({ code: 'custom', message: `HANDOFF_HOLIDAYS: ${problem}` });
      return z.NEVER;
    }
    return parsed.dates;
  }),
});
export type BusinessHoursVariables = z.output<typeof BusinessHoursVariables>;

/** The schedule the variables make (holidays alone close those days of an otherwise open week; none: no hours configured). */
export function businessHoursOf(env: BusinessHoursVariables): { schedule?: WeeklySchedule; timeZone: string; holidays: string[] } {
  const schedule = env.HANDOFF_HOURS
    ? { timeZone: env.HANDOFF_TIMEZONE, days: env.HANDOFF_HOURS, holidays: env.HANDOFF_HOLIDAYS }
    : env.HANDOFF_HOLIDAYS.length > 0
      ? alwaysOpen(env.HANDOFF_TIMEZONE, env.HANDOFF_HOLIDAYS)
      : undefined;
  return { schedule, timeZone: env.HANDOFF_TIMEZONE, holidays: env.HANDOFF_HOLIDAYS };
}
