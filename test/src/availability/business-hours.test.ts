/** Business hours: the HANDOFF_HOURS grammar, time zones and day boundaries, holidays, the next opening in words, and the start-up errors. */
import { describe, expect, it } from 'vitest';
import { parseHolidays, parseHours } from '../../../src/availability/parse-hours';
import { closedReason, nextOpening, type WeeklySchedule } from '../../../src/availability/weekly-schedule';
import { describeOpening } from '../../../src/availability/describe-opening';
import { loadConfig } from '../../../src/load-config';
import { ConfigError } from '../../../src/errors';

const at = (iso: string) => Date.parse(iso);

function schedule(hours: string, timeZone: string, holidays: string[] = []): WeeklySchedule {
  const parsed = parseHours(hours);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return { timeZone, days: parsed.days, holidays };
}

describe('HANDOFF_HOURS', () => {
  it('reads days, ranges of days (also around the week end), several ranges and 24:00', () => {
    const parsed = parseHours('mon-fri 09:00-18:00; sat 10:00-14:00');
    expect(parsed).toEqual({
      ok: true,
      days: [[], [{ open: 540, close: 1080 }], [{ open: 540, close: 1080 }], [{ open: 540, close: 1080 }], [{ open: 540, close: 1080 }], [{ open: 540, close: 1080 }], [{ open: 600, close: 840 }]],
    });
    const split = parseHours('Monday,wed 08:00-12:00, 13:00-17:30; fri-sun 20:00-24:00');
    expect(split.ok && split.days[1]).toEqual([{ open: 480, close: 720 }, { open: 780, close: 1050 }]);
    expect(split.ok && split.days[0]).toEqual([{ open: 1200, close: 1440 }]);
    expect(split.ok && split.days[2]).toEqual([]);
    expect(parseHours('daily 00:00-24:00')).toMatchObject({ ok: true, days: Array.from({ length: 7 }, () => [{ open: 0, close: 1440 }]) });
  });

  it('names what is wrong', () => {
    expect(parseHours('mon-fry 09:00-18:00')).toEqual({ ok: false, problems: [expect.stringContaining('unknown day "fry"')] });
    expect(parseHours('mon 9-18')).toEqual({ ok: false, problems: [expect.stringContaining('"9-18" is not a time range')] });
    expect(parseHours('fri 22:00-02:00')).toEqual({ ok: false, problems: [expect.stringContaining('closes before it opens')] });
    expect(parseHours('09:00-18:00')).toEqual({ ok: false, problems: [expect.stringContaining('is not "<days> <from>-<to>"')] });
    expect(parseHours('mon 25:00-26:00; tue 09:00-10:60')).toMatchObject({ ok: false, problems: [expect.any(String), expect.any(String)] });
    expect(parseHolidays('2026-12-25, 2027-02-30')).toEqual({ ok: false, problems: ['"2027-02-30" is not a date written YYYY-MM-DD'] });
    expect(parseHolidays('2027-01-01,2026-12-25')).toEqual({ ok: true, dates: ['2026-12-25', '2027-01-01'] });
  });

  it('is bad input at start: a clear error naming the variable (and the bad time zone), every problem at once', () => {
    const load = (env: Record<string, string>) => () => loadConfig({ ...env });
    expect(load({ HANDOFF_HOURS: 'mon-fri 9am-6pm' })).toThrow(ConfigError);
    try {
      loadConfig({ HANDOFF_HOURS: 'mon-fri 9am-6pm', HANDOFF_TIMEZONE: 'Mars/Olympus', HANDOFF_HOLIDAYS: 'christmas', HANDOFF_NO_ANSWER_MINUTES: 'ten' });
      expect.unreachable();
    } catch (error) {
      const problems = (error as ConfigError).problems;
      expect(problems).toEqual([
        expect.stringMatching(/^HANDOFF_HOURS: "mon-fri 9am-6pm": "9am-6pm" is not a time range/),
        'HANDOFF_TIMEZONE must be an IANA time zone name such as Europe/Paris or UTC',
        expect.stringMatching(/^HANDOFF_HOLIDAYS: "christmas" is not a date/),
        expect.stringMatching(/^HANDOFF_NO_ANSWER_MINUTES must be a whole number of minutes/),
      ]);
    }
  });

  it('gives the policy: hours in their zone with the holidays, the ladder and notice periods (defaults 10 and 5)', () => {
    const config = loadConfig({ HANDOFF_HOURS: 'mon-fri 09:00-18:00', HANDOFF_TIMEZONE: 'Europe/Paris', HANDOFF_HOLIDAYS: '2026-12-25' });
    expect(config.handoff).toMatchObject({ timeZone: 'Europe/Paris', holidays: ['2026-12-25'], noAnswerMinutes: 10, waitNoticeMinutes: 5 });
    expect(config.handoff.schedule).toMatchObject({ timeZone: 'Europe/Paris', holidays: ['2026-12-25'] });
    expect(loadConfig({}).handoff.schedule).toBeUndefined();
    // Holidays alone close those days of an otherwise open week.
    expect(loadConfig({ HANDOFF_HOLIDAYS: '2026-12-25' }).handoff.schedule?.days[5]).toEqual([{ open: 0, close: 1440 }]);
    expect(loadConfig({ HANDOFF_NO_ANSWER_MINUTES: '0' }).handoff.noAnswerMinutes).toBe(0);
  });
});

describe('open or closed, and when it opens next', () => {
  const paris = schedule('mon-fri 09:00-18:00; sat 10:00-14:00', 'Europe/Paris');

  it('inside and outside hours in the schedule\'s own time zone', () => {
    expect(closedReason(paris, at('2026-11-20T08:30:00Z'))).toBeUndefined(); // Friday 09:30 in Paris
    expect(closedReason(paris, at('2026-11-20T07:59:00Z'))).toBe('closed'); // Friday 08:59 in Paris
    expect(closedReason(paris, at('2026-11-20T17:00:00Z'))).toBe('closed'); // Friday 18:00: closing time is out
    expect(nextOpening(paris, at('2026-11-20T17:00:00Z'))).toBe(at('2026-11-21T09:00:00Z')); // Saturday 10:00 Paris
    expect(nextOpening(paris, at('2026-11-21T13:00:00Z'))).toBe(at('2026-11-23T08:00:00Z')); // Monday 09:00 Paris
  });

  it('across a day boundary: the UTC date is not the local date', () => {
    const tokyo = schedule('mon-fri 09:00-18:00', 'Asia/Tokyo');
    // Sunday 23:30 UTC is Monday 08:30 in Tokyo: closed until 09:00 today, not "tomorrow".
    expect(closedReason(tokyo, at('2026-11-22T23:30:00Z'))).toBe('closed');
    expect(nextOpening(tokyo, at('2026-11-22T23:30:00Z'))).toBe(at('2026-11-23T00:00:00Z'));
    expect(describeOpening(at('2026-11-23T00:00:00Z'), at('2026-11-22T23:30:00Z'), 'Asia/Tokyo')).toBe('today at 09:00');
    // Monday 01:00 UTC is 10:00 in Tokyo: open.
    expect(closedReason(tokyo, at('2026-11-23T01:00:00Z'))).toBeUndefined();
    // Friday 20:00 in New York is Saturday 01:00 UTC.
    const ny = schedule('mon-fri 09:00-17:00', 'America/New_York');
    expect(closedReason(ny, at('2026-11-21T01:00:00Z'))).toBe('closed');
    expect(describeOpening(nextOpening(ny, at('2026-11-21T01:00:00Z'))!, at('2026-11-21T01:00:00Z'), 'America/New_York')).toBe('Monday at 09:00');
  });

  it('across a daylight-saving change the opening keeps its local time', () => {
    const ny = schedule('mon-fri 09:00-17:00', 'America/New_York');
    // Friday 6 March 2026 18:00 EST; DST starts Sunday 8 March: Monday opens at 09:00 EDT = 13:00 UTC.
    expect(nextOpening(ny, at('2026-03-06T23:00:00Z'))).toBe(at('2026-03-09T13:00:00Z'));
  });

  it('a holiday is closed all day and skipped by the next opening', () => {
    const s = schedule('mon-fri 09:00-18:00', 'Europe/Paris', ['2026-12-25']);
    expect(closedReason(s, at('2026-12-25T10:00:00Z'))).toBe('holiday');
    expect(nextOpening(s, at('2026-12-24T18:00:00Z'))).toBe(at('2026-12-28T08:00:00Z'));
    expect(describeOpening(at('2026-12-28T08:00:00Z'), at('2026-12-25T10:00:00Z'), 'Europe/Paris')).toBe('Monday at 09:00');
    expect(describeOpening(at('2026-12-28T08:00:00Z'), at('2026-12-15T10:00:00Z'), 'Europe/Paris')).toBe('Monday 28 December at 09:00');
    expect(describeOpening(at('2026-12-16T08:00:00Z'), at('2026-12-15T18:00:00Z'), 'Europe/Paris')).toBe('tomorrow at 09:00');
  });

  it('a schedule that never opens has no next opening', () => {
    expect(nextOpening({ timeZone: 'UTC', days: [[], [], [], [], [], [], []], holidays: [] }, at('2026-11-20T10:00:00Z'))).toBeUndefined();
  });
});
