/** When the humans are back, in the customer's words: "today at 14:00", "tomorrow at 09:00", "Monday at 09:00". */
import { addDays, zonedParts } from './zoned-time';

const DAY = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTH = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** `at` as seen from `now`, both on the clock of `timeZone`. */
export function describeOpening(at: number, now: number, timeZone: string): string {
  const when = zonedParts(at, timeZone);
  const today = zonedParts(now, timeZone);
  const time = `${String(when.hour).padStart(2, '0')}:${String(when.minute).padStart(2, '0')}`;
  const sameDate = (d: { year: number; month: number; day: number }) => d.year === when.year && d.month === when.month && d.day === when.day;
  if (sameDate(today)) return `today at ${time}`;
  if (sameDate(addDays(today, 1))) return `tomorrow at ${time}`;
  for (let d = 2; d < 7; d++) if (sameDate(addDays(today, d))) return `${DAY[when.weekday]} at ${time}`;
  return `${DAY[when.weekday]} ${when.day} ${MONTH[when.month - 1]} at ${time}`;
}
