/** Times, durations, ids and platform values as an operator reads them. */

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `14:03:07.123` (24-hour, local time). */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/**
 * A moment in local time, unambiguous in any locale: the time alone when it is today
 * (`14:03:07`), else with the ISO date (`2026-12-06 23:58:01`).
 */
export function dateTime(ms: number, now: number = Date.now()): string {
  const d = new Date(ms);
  const today = new Date(now);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const sameDay = d.getFullYear() === today.getFullYear() && d.getMonth() === today.getMonth() && d.getDate() === today.getDate();
  return sameDay ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** How long something took (a turn, a platform call): milliseconds below a second. */
export function duration(ms: number): string {
  if (ms === 0) return '0 ms';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  return elapsed(ms);
}

/** How long ago or how long for, as a person says it: "a moment" below a second, then s, min, h, days. */
export function elapsed(ms: number): string {
  if (ms < 1000) return 'a moment';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} days`;
}

/** "12 s ago". */
export function ago(ms: number, now: number): string {
  return `${elapsed(Math.max(0, now - ms))} ago`;
}

/** "in 12 s" (or "now" when due). */
export function fromNow(ms: number, now: number): string {
  return ms <= now + 500 ? 'now' : `in ${elapsed(ms - now)}`;
}

/** What a conversation id is made of, by platform: Nimchat's `account:conversation`, WOZTELL's `channel:member`. */
export function conversationParts(platform: string, id: string): Array<[string, string]> {
  const i = id.indexOf(':');
  if (i < 0) return [['conversation', id]];
  const [a, b] = [id.slice(0, i), id.slice(i + 1)];
  if (platform === 'nimchat') return [['account', a], ['conversation', b]];
  if (platform === 'woztell') return [['channel', a], ['member', b]];
  return [['conversation', id]];
}

/** `account 1 · conversation 102`. */
export function conversationLabel(platform: string, id: string): string {
  return conversationParts(platform, id)
    .map(([what, value]) => `${what} ${value}`)
    .join(' · ');
}

export { fields } from '../readable-fields';
