/**
 * The configured business hours, written for people: `mon-fri 09:00-18:00; sat 10:00-14:00`.
 * Segments are separated by `;`; each names days (`mon`, `mon-fri`, `mon,wed,fri`, `daily`; full names
 * work too) and one or more ranges (`09:00-12:00, 13:00-17:30`; `24:00` closes at midnight). Days not
 * named are closed. Every mistake is reported with the part that is wrong.
 */
import type { OpenInterval } from './weekly-schedule';

const DAY_NAMES: Record<string, number> = {
  sun: 0, sunday: 0, mon: 1, monday: 1, tue: 2, tues: 2, tuesday: 2, wed: 3, wednesday: 3,
  thu: 4, thur: 4, thurs: 4, thursday: 4, fri: 5, friday: 5, sat: 6, saturday: 6,
};

export type ParsedHours = { ok: true; days: OpenInterval[][] } | { ok: false; problems: string[] };

/** Parses the hours; the days are indexed 0 = Sunday. */
export function parseHours(text: string): ParsedHours {
  const days: OpenInterval[][] = Array.from({ length: 7 }, () => []);
  const problems: string[] = [];
  const segments = text.split(';').map((s) => s.trim()).filter(Boolean);
  if (segments.length === 0) return { ok: false, problems: ['no days and hours are given (e.g. "mon-fri 09:00-18:00")'] };
  for (const segment of segments) {
    const match = /^([A-Za-z][A-Za-z,\-\s]*?)\s+(\d.*)$/.exec(segment);
    if (!match) {
      problems.push(`"${segment}" is not "<days> <from>-<to>" (e.g. "mon-fri 09:00-18:00")`);
      continue;
    }
    const dayList = parseDays(match[1]!.replace(/\s+/g, '').toLowerCase());
    const ranges = match[2]!.replace(/\s+/g, '').split(',').filter(Boolean).map(parseRange);
    if ('problem' in dayList) problems.push(`"${segment}": ${dayList.problem}`);
    for (const r of ranges) if ('problem' in r) problems.push(`"${segment}": ${r.problem}`);
    if ('problem' in dayList || ranges.some((r) => 'problem' in r)) continue;
    for (const day of dayList.days) for (const r of ranges as OpenInterval[]) days[day]!.push(r);
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, days: days.map(merge) };
}

function dayNumber(name: string): number | undefined {
  return DAY_NAMES[name];
}

function parseDays(text: string): { days: number[] } | { problem: string } {
  if (text === 'daily' || text === 'everyday') return { days: [0, 1, 2, 3, 4, 5, 6] };
  const days = new Set<number>();
  for (const term of text.split(',').filter(Boolean)) {
    const [from, to, extra] = term.split('-');
    const a = dayNumber(from ?? '');
    const b = to === undefined ? a : dayNumber(to);
    if (extra !== undefined || a === undefined || b === undefined) {
      const unknown = [from, to].find((x) => x !== undefined && dayNumber(x) === undefined);
      return { problem: unknown !== undefined ? `unknown day "${unknown}" (use mon, tue, wed, thu, fri, sat, sun or daily)` : `"${term}" is not a day or a range of days` };
    }
    // A range may wrap around the week (fri-mon).
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  if (days.size === 0) return { problem: 'no day is named' };
  return { days: [...days].sort() };
}

function parseTime(text: string, isClose: boolean): number | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if (minute > 59) return undefined;
  if (hour === 24 && minute === 0 && isClose) return 1440;
  if (hour > 23) return undefined;
  return hour * 60 + minute;
}

function parseRange(text: string): OpenInterval | { problem: string } {
  const [from, to, extra] = text.split('-');
  const open = from === undefined ? undefined : parseTime(from, false);
  const close = to === undefined ? undefined : parseTime(to, true);
  if (extra !== undefined || open === undefined || close === undefined) return { problem: `"${text}" is not a time range such as 09:00-18:00 (hours 00-23, or 24:00 to close at midnight)` };
  if (close <= open) return { problem: `"${text}" closes before it opens (a night shift is two ranges: "fri 22:00-24:00; sat 00:00-02:00")` };
  return { open, close };
}

/** Sorted, overlapping or touching intervals joined. */
function merge(intervals: OpenInterval[]): OpenInterval[] {
  const sorted = [...intervals].sort((a, b) => a.open - b.open);
  const out: OpenInterval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i.open <= last.close) last.close = Math.max(last.close, i.close);
    else out.push({ ...i });
  }
  return out;
}

/** A list of public holidays (`2026-12-25,2027-01-01`): each a real date, written YYYY-MM-DD. */
export function parseHolidays(text: string): { ok: true; dates: string[] } | { ok: false; problems: string[] } {
  const dates: string[] = [];
  const problems: string[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(item);
    const d = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
    const real = m && d && d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() + 1 === Number(m[2]) && d.getUTCDate() === Number(m[3]);
    if (!real) problems.push(`"${item}" is not a date written YYYY-MM-DD`);
    else dates.push(item);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, dates: [...new Set(dates)].sort() };
}
