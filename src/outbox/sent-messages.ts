/**
 * What a platform says the bot sent: its echoes of the bot's own messages (Nimchat sends the bot a
 * `message_created` for each, WOZTELL a `BOT` outbound event). The outbox looks here before it sends a
 * message again whose earlier attempt may have been carried out (a timeout, a connection cut after the
 * request was written, a crash before the done mark): an echo of the same message that is none of the
 * earlier actions' messages is that attempt's, and the message is not sent twice.
 *
 * - A send's answer names its message (`confirmed`): that echo, whenever it comes, is nobody's evidence.
 * - An echo that no answer has named yet (`echoed`) is kept: in memory, and in the store, so that it
 *   survives a crash of this process before the answer or the done mark (written only then: when the
 *   answer comes first, as it usually does, nothing is written).
 * - `take` finds such an echo for a message (by its fingerprint), waiting a moment for one still on its
 *   way, and removes it, so it is evidence for one send only.
 *
 * With replicas (`shared`) an echo reaches any of them, and the one that did not send keeps it: a look
 * reads the store again while it waits, and the earlier actions' results (their message ids, stored with
 * their done marks) rule out the echoes of sends another replica confirmed. Echo writes are
 * group-committed: every change asked for while a batch is written goes into the next one (on
 * PostgreSQL a statement for the added echoes and one for the removed).
 */
import type { Clock } from '../clock';
import type { Logger } from '../log';
import { ECHO_KEEP_MS, type EchoKey, type EchoStore, type KeptEcho } from '../storage/echo-store';
import { StoreUnavailableError } from '../errors';
import { SettledElsewhereError, type StepProgress } from './step-progress';

/** One of the bot's own messages as the platform echoed it. */
export interface SentEcho {
  conversationId: string;
  /** The platform's id of the message. */
  messageId: string;
  /** What the message was (see the platform's fingerprint): equal for a send and its echo. */
  fingerprint: string;
}

interface Waiting {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Echoes a process keeps in memory per conversation, at most. */
const KEEP_PER_CONVERSATION = 50;
/** A look waits in pauses of this length (an echo kept by this process wakes it at once). */
const PAUSE_MS = 100;
/** With replicas, how often (in pauses) a waiting look asks whether the action was finished elsewhere. */
const SETTLED_EVERY_PAUSES = 5;

/** How a platform's message ids rule out an earlier action's echoes (see `earlierSends`). */
export interface LookOptions {
  /** The platform's ids grow: their order. */
  order?: (messageId: string) => number;
  /** The message ids an action's result names (several: space-separated). */
  idsOf?: (result: string) => string[];
}

export interface SentMessagesOptions {
  echoes: EchoStore;
  clock: Clock;
  logger: Logger;
  /** Several replicas share the store (see above). */
  shared: boolean;
  /** How long a look waits for the echo of an earlier attempt still on its way (default 5 s: a platform's webhook queue may lag). */
  echoWaitMs?: number;
}

export class SentMessages {
  /** Message ids a send's answer named, by `platform:conversation`, recently. */
  private readonly confirmedIds = new Map<string, Map<string, number>>();
  /** Echoes not confirmed, by `platform:conversation` (this process's view of what is stored). */
  private readonly unconfirmed = new Map<string, KeptEcho[]>();
  /** Attempts that looked once: only the first message an attempt sends can repeat the earlier one's last. */
  private readonly looked = new WeakSet<StepProgress>();
  /** Store changes not written yet (see `flush`). */
  private pending: { add: KeptEcho[]; remove: EchoKey[]; waiting: Waiting[] } = { add: [], remove: [], waiting: [] };
  private flushing?: Promise<void>;
  private readonly waiters = new Map<string, Array<() => void>>();

  constructor(private readonly options: SentMessagesOptions) {}

  /** A send's answer named `messageId`: its echo is not evidence for another send (and is forgotten if kept). */
  async confirmed(platform: string, conversationId: string, messageId: string): Promise<void> {
    const key = `${platform}:${conversationId}`;
    this.remember(key, messageId);
    const kept = this.unconfirmed.get(key);
    if (kept?.some((e) => e.messageId === messageId)) {
      this.keep(key, kept.filter((e) => e.messageId !== messageId));
      await this.write({ remove: [{ platform, conversationId, messageId }] });
    }
  }

  /** The platform echoed one of the bot's messages: kept when no send was told its id. */
  async echoed(platform: string, echo: SentEcho): Promise<void> {
    const key = `${platform}:${echo.conversationId}`;
    if (this.confirmedIds.get(key)?.has(echo.messageId)) return;
    const kept: KeptEcho = { platform, ...echo, at: this.options.clock.now() };
    if ((this.unconfirmed.get(key) ?? []).some((e) => e.messageId === echo.messageId)) return;
    await this.write({ add: [kept] });
    // Kept in memory once stored (a failed write is delivered again, and stored then). With replicas
    // most echoes are of another replica's sends, confirmed there: the store keeps them, not memory.
    if (!this.options.shared) this.keep(key, [...(this.unconfirmed.get(key) ?? []).filter((e) => e.messageId !== kept.messageId), kept]);
    const waiting = this.waiters.get(key);
    this.waiters.delete(key);
    for (const wake of waiting ?? []) wake();
  }

  /**
   * Before an outbox action sends a message: when an earlier attempt of it may have been carried out
   * (`progress.repeated`), the id of that attempt's message, found by its echo; undefined: send it.
   * See `earlierSends`.
   */
  async earlierSend(progress: StepProgress | undefined, platform: string, conversationId: string, fingerprint: string, options: LookOptions = {}): Promise<string | undefined> {
    return (await this.earlierSends(progress, platform, conversationId, [fingerprint], options))?.[0];
  }

  /**
   * The same for a request that creates several messages (their fingerprints, in order): undefined when
   * there is nothing to look for (not a repeat); else each message's id when found. The first is looked
   * for first: not found, the request was not carried out (nothing else is looked for); found, each
   * other one is looked for in turn, and one not found means the earlier attempt stopped before it.
   *
   * An echo of what an earlier action created (its result; `idsOf` reads the message ids of a result
   * that names several) is never taken; with `order` (the platform's ids grow), neither is anything
   * older than the latest of those.
   */
  async earlierSends(progress: StepProgress | undefined, platform: string, conversationId: string, fingerprints: readonly string[], options: LookOptions = {}): Promise<Array<string | undefined> | undefined> {
    if (!progress?.repeated || this.looked.has(progress) || fingerprints.length === 0) return undefined;
    this.looked.add(progress);
    let earlier: string[];
    try {
      earlier = (await progress.earlierResults()).map((result) => options.idsOf?.(result) ?? [result]).flat();
    } catch (error) {
      // Without them an earlier action's echo could pass for this one's, and sending blindly could
      // repeat it: the action is tried again once the store answers (the outbox's retry).
      this.options.logger.warn('could not read what earlier actions sent; the action is tried again', { platform, conversationId, error });
      throw new StoreUnavailableError('could not read what earlier actions sent', { cause: error });
    }
    const taken: string[] = [];
    const ruledOut = new Set(earlier);
    const { order } = options;
    const orders = order ? earlier.map(order).filter(Number.isFinite) : [];
    const after = orders.length > 0 ? Math.max(...orders) : Number.NEGATIVE_INFINITY;
    const eligible = (id: string) => !ruledOut.has(id) && !taken.includes(id) && (!order || order(id) > after);
    const found: Array<string | undefined> = [];
    for (const fingerprint of fingerprints) {
      // The platform answered the earlier attempt (a 5xx): an echo of it is here already or never comes.
      const id = await this.take(platform, conversationId, fingerprint, { eligible, wait: progress.unanswered, settled: progress.settledElsewhere });
      found.push(id);
      if (id === undefined) break;
      taken.push(id);
    }
    return found;
  }

  /**
   * The id of an echo of a message with `fingerprint` in the conversation that no send was told about
   * (and that `eligible` accepts), taken: it will not be found again. With `wait` (the earlier attempt
   * got no answer), waits up to `echoWaitMs` for one on its way. Undefined: not sent. A store that
   * cannot be read: StoreUnavailableError (the action is tried again later).
   */
  async take(platform: string, conversationId: string, fingerprint: string, options: { eligible?: (messageId: string) => boolean; wait?: boolean; settled?: () => Promise<boolean> } = {}): Promise<string | undefined> {
    try {
      return await this.takeNow(platform, conversationId, fingerprint, options.eligible ?? (() => true), options.wait ?? true, options.settled);
    } catch (error) {
      if (error instanceof SettledElsewhereError) throw error;
      // Not knowing is neither "sent" nor "not sent": the action is tried again once the store answers
      // (the outbox's retry; its next attempt looks again). Nothing is lost, nothing sent blindly twice.
      this.options.logger.warn('could not look for the echo of an earlier attempt; the action is tried again', { platform, conversationId, error });
      throw new StoreUnavailableError('could not look for the echo of an earlier attempt', { cause: error });
    }
  }

  private async takeNow(platform: string, conversationId: string, fingerprint: string, eligible: (messageId: string) => boolean, wait: boolean, settled?: () => Promise<boolean>): Promise<string | undefined> {
    const key = `${platform}:${conversationId}`;
    // Counted in pauses, not read off the clock: a test's clock may stand still.
    let pauses = wait ? Math.ceil((this.options.echoWaitMs ?? 5000) / PAUSE_MS) : 0;
    // What an earlier run of this process kept (a crash), or another replica, is in the store only.
    await this.absorbStored(platform, conversationId);
    for (;;) {
      const confirmed = this.confirmedIds.get(key);
      const now = this.options.clock.now();
      const match = (this.unconfirmed.get(key) ?? []).find((e) => e.fingerprint === fingerprint && !confirmed?.has(e.messageId) && now - e.at < ECHO_KEEP_MS && eligible(e.messageId));
      if (match) {
        this.keep(key, (this.unconfirmed.get(key) ?? []).filter((e) => e !== match));
        // Taken: a redelivered copy of this echo is no evidence for another send either.
        this.remember(key, match.messageId);
        await this.write({ remove: [{ platform, conversationId, messageId: match.messageId }] });
        this.options.logger.info('an earlier attempt had sent the message: not sent again', { platform, conversationId, messageId: match.messageId });
        return match.messageId;
      }
      if (pauses-- <= 0) {
        if (this.options.shared) this.unconfirmed.delete(key);
        // What an operator needs to tell a late echo (a duplicate) from a send that never happened.
        if (wait) this.options.logger.info('no echo of the earlier attempt came: the message is sent again', { platform, conversationId, waitedMs: this.options.echoWaitMs ?? 5000 });
        return undefined;
      }
      await this.pause(key);
      if (this.options.shared) {
        await this.absorbStored(platform, conversationId);
        // The echo may never come (refused while the store was down, and redelivered no more), but the
        // replica whose attempt sent it marks the action done once it can: then it is no repeat of ours.
        if (settled && pauses % SETTLED_EVERY_PAUSES === 0 && (await settled().catch(() => false))) throw new SettledElsewhereError();
      }
    }
  }

  /** This process's unconfirmed echoes of a conversation (none: forgotten), a bounded number of conversations. */
  private keep(key: string, echoes: KeptEcho[]): void {
    this.unconfirmed.delete(key);
    if (echoes.length > 0) this.unconfirmed.set(key, echoes.slice(-KEEP_PER_CONVERSATION));
    if (this.unconfirmed.size > 10_000) this.unconfirmed.delete(this.unconfirmed.keys().next().value!);
  }

  /** The conversation's stored echoes joined to the ones this process knows. */
  private async absorbStored(platform: string, conversationId: string): Promise<void> {
    const key = `${platform}:${conversationId}`;
    const stored = await this.options.echoes.list(platform, conversationId, this.options.clock.now() - ECHO_KEEP_MS);
    const known = this.unconfirmed.get(key) ?? [];
    this.keep(key, [...known, ...stored.filter((s) => !known.some((k) => k.messageId === s.messageId))]);
  }

  /** A pause of a look, ended early by an echo this process keeps. */
  private pause(key: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const list = this.waiters.get(key) ?? [];
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const left = (this.waiters.get(key) ?? []).filter((w) => w !== wake);
        if (left.length > 0) this.waiters.set(key, left);
        else this.waiters.delete(key);
        resolve();
      }, PAUSE_MS);
      list.push(wake);
      this.waiters.set(key, list);
    });
  }

  /** A change to the stored echoes, written with the next batch; resolves once written. */
  private write(change: { add?: KeptEcho[]; remove?: EchoKey[] }): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.add.push(...(change.add ?? []));
      this.pending.remove.push(...(change.remove ?? []));
      this.pending.waiting.push({ resolve, reject });
      this.flush();
    });
  }

  /** Writes the pending changes, a batch at a time: those asked for meanwhile go in the next one. */
  private flush(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      while (this.pending.waiting.length > 0) {
        const batch = this.pending;
        this.pending = { add: [], remove: [], waiting: [] };
        try {
          // Added before removed: an echo confirmed while its addition waited ends up removed.
          await this.options.echoes.add(batch.add);
          await this.options.echoes.remove(batch.remove);
          for (const w of batch.waiting) w.resolve();
        } catch (error) {
          for (const w of batch.waiting) w.reject(error);
        }
      }
    })().finally(() => {
      this.flushing = undefined;
      if (this.pending.waiting.length > 0) this.flush();
    });
  }

  /** A message id no echo may stand for again (named by a send's answer, or taken). */
  private remember(key: string, messageId: string): void {
    const now = this.options.clock.now();
    let ids = this.confirmedIds.get(key);
    if (!ids) this.confirmedIds.set(key, (ids = new Map()));
    ids.set(messageId, now);
    this.trimConfirmed(ids, now);
    if (this.confirmedIds.size > 10_000) this.confirmedIds.delete(this.confirmedIds.keys().next().value!);
  }

  private trimConfirmed(ids: Map<string, number>, now: number): void {
    for (const [id, at] of ids) {
      if (now - at < ECHO_KEEP_MS && ids.size <= 200) break;
      ids.delete(id);
    }
  }
}
