/**
 * The satisfaction question after a human stretch. When a human's part ends (the conversation given
 * back to the bot, resolved by the human, its ticket closed) the customer is asked once for a rating
 * from 1 to 5 and, after a rating, for a few words; the answer is kept with the stretch it rates (the
 * agent, the team, the ticket, how and when it ended), counted, put on the timeline and given to the
 * bot as `conversation.satisfaction`.
 *
 * Where the platform has a survey message of its own (Nimchat's `input_csat`), that is the question
 * and the platform's answer webhook is the reply; elsewhere the question is a message with the five
 * ratings as choices, and the customer's next message is read as the answer. A message that is not
 * an answer drops the survey and goes to the bot as usual: the customer moved on.
 *
 * The survey's state is one record per conversation in the turn's storage, written with the turn: a
 * restart between the question and the answer loses nothing.
 */
import { ActivityTypes, type Activity, type ConversationReference, type Storage } from 'botbuilder-core';
import { TurnContext } from 'botbuilder-core';
import { z } from 'zod';
import type { Clock } from '../clock';
import { ConversationEvents, RatingSchema, StretchSchema, type Rating, type Satisfaction, type Stretch, type StretchEnd } from '../control/vocabulary';
import type { Logger } from '../log';
import type { OwnershipRecord } from '../ownership';
import type { TranscriptStore } from '../transcript';

export interface SatisfactionTexts {
  /** The question (the platform's own survey shows it as its caption). */
  question: string;
  /** After a rating: the invitation to say more. */
  comment: string;
  /** The choice that declines to say more. */
  skip: string;
  thanks: string;
}

export const DEFAULT_SATISFACTION_TEXTS: SatisfactionTexts = {
  question: 'How would you rate the help you got from our team? 1 is poor, 5 is excellent.',
  comment: 'Thank you! Anything you would like to tell us? Write it here, or choose Skip.',
  skip: 'Skip',
  thanks: 'Thank you for your feedback.',
};

export interface SatisfactionOptions {
  enabled: boolean;
  texts?: Partial<SatisfactionTexts>;
  /** How long a question waits for its answer (default 24 h); a later message is not read as one. */
  answerWithinMs?: number;
  /** How long after a rating the next message is read as the customer's words (default 10 min). */
  commentWithinMs?: number;
  /** Decides per stretch whether to ask (default: always). */
  shouldAsk?: (stretch: Stretch) => boolean | Promise<boolean>;
}

/** A survey under way: `rating` and `comment` read the customer's messages; `platform` waits for the platform's answer. */
const SurveyStateSchema = z.object({
  id: z.string(),
  stage: z.enum(['rating', 'comment', 'platform']),
  askedAt: z.number(),
  stretch: StretchSchema,
  rating: z.number().int().min(1).max(5).optional(),
  /** The activities whose processing asked (a customer message that revealed the stretch's end): not answers. */
  askedDuring: z.array(z.string()).optional(),
});
type SurveyState = z.infer<typeof SurveyStateSchema>;

/** What the platform knows how to do for a survey. */
export interface SurveyChannel {
  channelId: string;
  /** The platform's own survey message, when it has one (the answer comes back as a `conversation.satisfaction` event). */
  platformSurvey?: (question: string) => Partial<Activity>;
  /** How long after the customer's last message the platform still delivers (a messaging window). */
  replyWindowMs?: number;
}

/** What a survey step wants done in the turn: messages to send, and the answer to record and tell the bot. */
export interface SurveyOutcome {
  /** The activity is the survey's and ends here (it does not reach the bot). */
  consumed: boolean;
  send: Array<Partial<Activity>>;
  answered?: Satisfaction;
  /** Why no question was asked, or why a survey ended unanswered (for the timeline). */
  note?: string;
}

const NOTHING: SurveyOutcome = { consumed: false, send: [] };

export class SatisfactionSurvey {
  readonly texts: SatisfactionTexts;
  private readonly answerWithinMs: number;
  private readonly commentWithinMs: number;

  constructor(
    private readonly options: SatisfactionOptions,
    private readonly deps: { storage: Storage; transcripts: TranscriptStore; clock: Clock; logger: Logger },
  ) {
    this.texts = { ...DEFAULT_SATISFACTION_TEXTS, ...options.texts };
    this.answerWithinMs = options.answerWithinMs ?? 24 * 3600_000;
    this.commentWithinMs = options.commentWithinMs ?? 10 * 60_000;
  }

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** The storage key of a conversation's survey (read with the turn's other state). */
  static key(channelId: string, conversationId: string): string {
    return `${channelId}/conversations/${conversationId}/satisfaction`;
  }

  /** The stretch that `before` (the owner record while the human had it) describes, ended now. */
  stretchOf(before: OwnershipRecord | undefined, ended: StretchEnd, extra: { ticketId?: string } = {}): Stretch {
    const details = before?.details ?? {};
    const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
    const agent = text(details.agent) ?? text(details.assignee);
    const team = text(details.team);
    const ticketId = extra.ticketId ?? text(details.ticketId);
    return { ended, endedAt: this.deps.clock.now(), ...(agent ? { agent } : {}), ...(team ? { team } : {}), ...(ticketId ? { ticketId } : {}) };
  }

  /**
   * A stretch ended, inside the conversation's turn: the question to send, or nothing (off, declined
   * by `shouldAsk`, the platform's window closed). A survey still open for an earlier stretch is replaced.
   */
  async stretchEnded(channel: SurveyChannel, reference: Partial<ConversationReference>, stretch: Stretch, during: string[] = []): Promise<SurveyOutcome> {
    if (!this.options.enabled) return NOTHING;
    const conversationId = reference.conversation?.id;
    if (!conversationId) return NOTHING;
    const declined = this.options.shouldAsk && !(await this.options.shouldAsk(stretch));
    const closed = !declined && channel.replyWindowMs !== undefined && !(await this.withinWindow(channel, conversationId, channel.replyWindowMs));
    if (declined || closed) {
      // A survey still open for an earlier stretch is over too: an answer now would rate the wrong one.
      await this.clear(channel.channelId, conversationId);
      return { ...NOTHING, note: declined ? 'not asked: declined by shouldAsk' : 'not asked: the platform no longer delivers to this customer (messaging window closed)' };
    }
    const id = `${conversationId}:${stretch.endedAt}`;
    const platform = channel.platformSurvey;
    const state: SurveyState = { id, stage: platform ? 'platform' : 'rating', askedAt: this.deps.clock.now(), stretch, ...(during.length > 0 ? { askedDuring: during } : {}) };
    await this.save(channel.channelId, conversationId, state);
    const question = platform ? platform(this.texts.question) : this.ratingQuestion();
    return { consumed: false, send: [this.addressed(question, reference)] };
  }

  /**
   * An activity of a bot-owned conversation, before the bot sees it: the survey's answer (consumed,
   * with what to send next), or not the survey's (`consumed: false`; an open question is dropped when
   * a customer's message does not answer it).
   */
  async read(channel: SurveyChannel, activity: Partial<Activity>): Promise<SurveyOutcome> {
    const conversationId = activity.conversation?.id;
    if (!conversationId) return NOTHING;
    const platformAnswer = activity.type === ActivityTypes.Event && activity.name === ConversationEvents.Satisfaction;
    if (!platformAnswer && activity.type !== ActivityTypes.Message) return NOTHING;
    const state = await this.load(channel.channelId, conversationId);
    if (platformAnswer) return this.platformAnswered(channel, activity, state);
    if (!state || state.stage === 'platform' || (activity.id !== undefined && state.askedDuring?.includes(activity.id))) return NOTHING;
    const reference = TurnContext.getConversationReference(activity);
    if (state.stage === 'rating' && this.deps.clock.now() - state.askedAt > this.answerWithinMs) {
      await this.clear(channel.channelId, conversationId);
      return { ...NOTHING, note: 'survey expired unanswered' };
    }
    if (state.stage === 'rating') {
      const rating = readRating(activity);
      if (rating === undefined) {
        await this.clear(channel.channelId, conversationId);
        return { ...NOTHING, note: 'survey dropped: the customer wrote something else' };
      }
      await this.save(channel.channelId, conversationId, { ...state, stage: 'comment', rating, askedAt: this.deps.clock.now() });
      return { consumed: true, send: [this.addressed(this.commentQuestion(), reference)] };
    }
    await this.clear(channel.channelId, conversationId);
    if (this.deps.clock.now() - state.askedAt > this.commentWithinMs) {
      // Too late for the words: the rating stands alone, and the message is the bot's.
      return { consumed: false, send: [], answered: this.answer(state, { rating: state.rating! }) };
    }
    const comment = readComment(activity, this.texts.skip);
    return {
      consumed: true,
      send: [this.addressed({ type: ActivityTypes.Message, text: this.texts.thanks }, reference)],
      answered: this.answer(state, { rating: state.rating!, ...(comment ? { comment } : {}) }),
    };
  }

  /** The platform's own survey was answered: with the open survey's stretch, or (a survey the platform sent by itself) a stretch ended now. */
  private async platformAnswered(channel: SurveyChannel, activity: Partial<Activity>, state: SurveyState | undefined): Promise<SurveyOutcome> {
    const rating = RatingSchema.safeParse(activity.value);
    if (!rating.success) return { consumed: true, send: [], note: 'a survey answer without a rating from 1 to 5' };
    const conversationId = activity.conversation!.id;
    if (state) await this.clear(channel.channelId, conversationId);
    // An answer long after the question (or with none open) rates the stretch that just ended by itself.
    const live = state && this.deps.clock.now() - state.askedAt <= this.answerWithinMs ? state : undefined;
    const survey: SurveyState = live ?? { id: `${conversationId}:${activity.id ?? this.deps.clock.now()}`, stage: 'platform', askedAt: this.deps.clock.now(), stretch: { ended: 'resolved', endedAt: this.deps.clock.now() } };
    return { consumed: true, send: [], answered: this.answer(survey, rating.data) };
  }

  private answer(state: SurveyState, rating: Rating): Satisfaction {
    return { ...rating, surveyId: state.id, ...state.stretch };
  }

  private ratingQuestion(): Partial<Activity> {
    const labels = ['1 - poor', '2', '3', '4', '5 - excellent'];
    return {
      type: ActivityTypes.Message,
      text: this.texts.question,
      suggestedActions: { to: [], actions: labels.map((title, i) => ({ type: 'imBack', title, value: String(i + 1) })) },
    };
  }

  private commentQuestion(): Partial<Activity> {
    return { type: ActivityTypes.Message, text: this.texts.comment, suggestedActions: { to: [], actions: [{ type: 'imBack', title: this.texts.skip, value: 'skip' }] } };
  }

  private addressed(activity: Partial<Activity>, reference: Partial<ConversationReference>): Partial<Activity> {
    return TurnContext.applyConversationReference({ ...activity }, reference, false);
  }

  /** Whether the customer's last message is recent enough for the platform to deliver now. */
  private async withinWindow(channel: SurveyChannel, conversationId: string, windowMs: number): Promise<boolean> {
    const entries = await this.deps.transcripts.list(channel.channelId, conversationId);
    const last = [...entries].reverse().find((e) => e.role === 'customer');
    if (!last?.at) return false;
    return this.deps.clock.now() - Date.parse(last.at) < windowMs;
  }

  private async load(channelId: string, conversationId: string): Promise<SurveyState | undefined> {
    const key = SatisfactionSurvey.key(channelId, conversationId);
    const stored = (await this.deps.storage.read([key]))[key] as { state?: unknown } | undefined;
    const parsed = SurveyStateSchema.safeParse(stored?.state);
    return parsed.success ? parsed.data : undefined;
  }

  private save(channelId: string, conversationId: string, state: SurveyState): Promise<void> {
    return this.deps.storage.write({ [SatisfactionSurvey.key(channelId, conversationId)]: { state } });
  }

  private clear(channelId: string, conversationId: string): Promise<void> {
    return this.deps.storage.delete([SatisfactionSurvey.key(channelId, conversationId)]);
  }
}

/** A rating from a message: a choice's value, or a text that starts with 1–5 (`4`, `4 - good`) or is one to five stars. */
export function readRating(activity: Partial<Activity>): number | undefined {
  const candidates = [activity.value, activity.text];
  for (const candidate of candidates) {
    if (typeof candidate === 'number' && Number.isInteger(candidate) && candidate >= 1 && candidate <= 5) return candidate;
    if (typeof candidate !== 'string') continue;
    const text = candidate.trim();
    const digit = /^([1-5])(?:\s*(?:\/\s*5|stars?|⭐+|-.*)?)?$/i.exec(text);
    if (digit) return Number(digit[1]);
    const stars = /^(?:⭐|★){1,5}$/u.exec(text);
    if (stars) return [...text].length;
  }
  return undefined;
}

/** The customer's words after a rating; nothing when they chose to skip. */
function readComment(activity: Partial<Activity>, skip: string): string | undefined {
  const text = (activity.text ?? '').trim();
  if (activity.value === 'skip' || text.toLowerCase() === 'skip' || text.toLowerCase() === skip.toLowerCase() || text === '') return undefined;
  return text.slice(0, 2000);
}
