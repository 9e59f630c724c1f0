/**
 * Can a human answer on Nimchat now? With a user token: the inbox's business hours when it has them
 * enabled (else the configured hours), the holidays, then who could take the conversation (the
 * handoff team's members, else the inbox's agents): `online` (or `available`) can answer, `busy` and
 * `offline` cannot. Answers are kept briefly. A lookup that fails says nothing: the configured hours
 * decide, or the answer is unknown.
 */
import type { Activity } from 'botbuilder-core';
import { closedReason, nextOpening, type WeeklySchedule } from '../../src/availability/weekly-schedule';
import type { AvailabilityVerdict } from '../../src/availability/availability-verdict';
import type { AvailabilityQuestion, HumanAvailability } from '../../src/availability/human-availability';
import { isTimeZone } from '../../src/availability/zoned-time';
import { systemClock, type Clock } from '../../src/clock';
import { silentLogger, type Logger } from '../../src/log';
import { TtlCache } from '../../src/ttl-cache';
import { parseConversationId } from './conversation-ref';
import type { NimchatAgent, NimchatInbox } from './schemas';
import type { NimchatUserClient } from './user-client';
import { withoutTenant } from '../../src/tenants/tenant-scope';

export interface NimchatAvailabilityOptions {
  client: NimchatUserClient;
  /** The configured hours (with the holidays), used when the inbox has none enabled or cannot be read. */
  configured?: WeeklySchedule;
  /** Closed all day, in the inbox's time zone when its hours are used. */
  holidays?: string[];
  /** The team a handoff goes to when the request names none. */
  handoffTeamId?: number;
  /** The inbox when the activity does not say (NIMCHAT_INBOX_ID). */
  inboxId?: number;
  clock?: Clock;
  logger?: Logger;
  /** How long the inbox (default 60 s) and the agents' availability (default 10 s) are kept. */
  inboxCacheMs?: number;
  agentsCacheMs?: number;
}

/** Statuses in which an agent can take a conversation. */
const AVAILABLE = new Set(['online', 'available']);

/** An inbox's business hours as a weekly schedule (undefined when it has none enabled, or an unknown time zone). */
export function inboxSchedule(inbox: NimchatInbox, holidays: string[] = []): WeeklySchedule | undefined {
  if (!inbox.working_hours_enabled || !inbox.working_hours) return undefined;
  const timeZone = inbox.timezone || 'UTC';
  if (!isTimeZone(timeZone)) return undefined;
  const days: WeeklySchedule['days'] = [[], [], [], [], [], [], []];
  for (const h of inbox.working_hours) {
    if (h.closed_all_day) continue;
    if (h.open_all_day) {
      days[h.day_of_week] = [{ open: 0, close: 1440 }];
      continue;
    }
    const open = (h.open_hour ?? 0) * 60 + (h.open_minutes ?? 0);
    // 23:59 is how Nimchat writes "until midnight".
    const rawClose = (h.close_hour ?? 0) * 60 + (h.close_minutes ?? 0);
    const close = rawClose === 1439 ? 1440 : rawClose;
    if (close > open && open < 1440) days[h.day_of_week] = [{ open, close: Math.min(close, 1440) }];
  }
  return { timeZone, days, holidays };
}

/** The inbox a Nimchat activity belongs to (its platform payload carries it). */
function inboxOf(activity: Partial<Activity>): number | undefined {
  const data = activity.channelData as { inbox?: { id?: unknown }; conversation?: { inbox_id?: unknown }; inbox_id?: unknown } | undefined;
  const candidates = [data?.conversation?.inbox_id, data?.inbox?.id, data?.inbox_id];
  const found = candidates.find((c) => typeof c === 'number' && Number.isInteger(c));
  return found as number | undefined;
}

function numeric(value: string | number | undefined): number | undefined {
  if (typeof value === 'number') return value;
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

export class NimchatAvailability implements HumanAvailability {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly inboxes: TtlCache<NimchatInbox>;
  private readonly agents: TtlCache<NimchatAgent[]>;

  constructor(private readonly options: NimchatAvailabilityOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child({ component: 'nimchat-availability' });
    this.inboxes = new TtlCache(options.inboxCacheMs ?? 60_000, this.clock);
    this.agents = new TtlCache(options.agentsCacheMs ?? 10_000, this.clock);
  }

  async check({ activity, request }: AvailabilityQuestion): Promise<AvailabilityVerdict> {
    const { accountId } = parseConversationId(withoutTenant(activity.conversation?.id ?? ''));
    const inboxId = inboxOf(activity) ?? this.options.inboxId;
    const teamId = numeric(request.team) ?? this.options.handoffTeamId;
    const now = this.clock.now();

    const inbox = inboxId === undefined ? undefined : await this.lookUp('inbox', () => this.inboxes.get(`${accountId}:${inboxId}`, () => this.options.client.getInbox(accountId, inboxId)));
    const own = inbox ? inboxSchedule(inbox, this.options.holidays) : undefined;
    const schedule = own ?? this.options.configured;
    if (schedule) {
      const reason = closedReason(schedule, now);
      if (reason) {
        return {
          state: 'unavailable',
          reason,
          source: own ? 'nimchat' : 'hours',
          nextOpening: nextOpening(schedule, now),
          timeZone: schedule.timeZone,
          ...(own && inbox?.out_of_office_message ? { message: inbox.out_of_office_message } : {}),
        };
      }
    }

    const agents =
      teamId !== undefined
        ? await this.lookUp('team members', () => this.agents.get(`team:${accountId}:${teamId}`, () => this.options.client.teamMembers(accountId, teamId)))
        : inboxId !== undefined
          ? await this.lookUp('inbox members', () => this.agents.get(`inbox:${accountId}:${inboxId}`, () => this.options.client.inboxMembers(accountId, inboxId)))
          : undefined;
    if (agents === undefined) {
      return schedule ? { state: 'available', source: own ? 'nimchat' : 'hours' } : { state: 'unknown', source: 'nimchat', why: 'neither business hours nor agents could be read' };
    }
    if (agents.some((a) => AVAILABLE.has((a.availability_status ?? '').toLowerCase()))) return { state: 'available', source: 'nimchat' };
    return { state: 'unavailable', reason: 'nobody_online', source: 'nimchat' };
  }

  /** A lookup whose failure only means "not known" (logged, never thrown). */
  private async lookUp<T>(what: string, load: () => Promise<T>): Promise<T | undefined> {
    try {
      return await load();
    } catch (error) {
      this.logger.warn(`could not read the ${what}; availability falls back`, { error });
      return undefined;
    }
  }
}
