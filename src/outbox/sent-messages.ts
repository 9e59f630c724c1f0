/**
 * What a platform says the bot sent: its echoes of the bot's own messages (Nimchat sends the bot a
 * `message_created` for each). The outbox looks here before it sends a message again whose earlier
 * attempt may have been carried out (a timeout, a connection cut after the request was written, a
 * crash before the done mark): an echo of the same message that no send of ours was told about is that
 * attempt's, and the message is not sent twice.
 *
 * - A send's answer names its message (`confirmed`): that echo, whenever it comes, is nobody's evidence.
 * - An echo that no answer has named yet (`echoed`) is kept: in memory, and in the store, so that it
 *   survives a crash of this process before the answer or the done mark (written only then: when the
 *   answer comes first, as it usually does, nothing is written).
 * - `take` finds such an echo for a message (by its fingerprint), waiting a moment for one still on its
 *   way, and removes it, so it is evidence for one send only.
 *
 * One process per store only: with replicas, an echo reaches any of them, and one that never sent the
 * message cannot tell it from a later one with the same text; there (`enabled: false`) nothing is kept and
 * a repeated message is sent again (at least once, as before).
 */
import type { Storage } from 'botbuilder-core';
import type { Clock } from '../clock';
import type { Logger } from '../log';

/** One of the bot's own messages as the platform echoed it. */
export interface SentEcho {
  conversationId: string;
  /** The platform's id of the message. */
  messageId: string;
  /** What the message was (see the platform's fingerprint): equal for a send and its echo. */
  fingerprint: string;
}

interface Kept {
  messageId: string;
  fingerprint: string;
  at: number;
}

interface KeptDocument {
  echoes: Kept[];
  eTag?: string;
}

/** Echoes kept at most this long: a look happens within minutes of its send, or the send is repeated anyway. */
const KEEP_MS = 60 * 60_000;
const KEEP_PER_CONVERSATION = 50;
/** A look waits in pauses of this length (an echo kept by this process wakes it at once). */
const PAUSE_MS = 100;

export interface SentMessagesOptions {
  storage: Storage;
  clock: Clock;
  logger: Logger;
  /** False where several replicas share the store (see above). */
  enabled: boolean;
  /** How long a look waits for the echo of an earlier attempt still on its way (default 5 s: a platform's webhook queue may lag). */
  echoWaitMs?: number;
}

export class SentMessages {
  /** Message ids a send's answer named, by `platform:conversation`, recently. */
  private readonly confirmedIds = new Map<string, Map<string, number>>();
  /** Echoes not confirmed, by `platform:conversation` (this process's view of what is stored). */
  private readonly unconfirmed = new Map<string, Kept[]>();
  /** One store write at a time per conversation: an echo, its confirmation and a take never interleave. */
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly waiters = new Map<string, Array<() => void>>();

  constructor(private readonly options: SentMessagesOptions) {}

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** A send's answer named `messageId`: its echo is not evidence for another send (and is forgotten if kept). */
  async confirmed(platform: string, conversationId: string, messageId: string): Promise<void> {
    if (!this.options.enabled) return;
    const key = `${platform}:${conversationId}`;
    this.remember(key, messageId);
    const kept = this.unconfirmed.get(key);
    if (kept?.some((e) => e.messageId === messageId)) {
      this.unconfirmed.set(key, kept.filter((e) => e.messageId !== messageId));
      await this.update(platform, conversationId, (echoes) => echoes.filter((e) => e.messageId !== messageId));
    }
  }

  /** The platform echoed one of the bot's messages: kept when no send was told its id. */
  async echoed(platform: string, echo: SentEcho): Promise<void> {
    if (!this.options.enabled) return;
    const key = `${platform}:${echo.conversationId}`;
    if (this.confirmedIds.get(key)?.has(echo.messageId)) return;
    const kept: Kept = { messageId: echo.messageId, fingerprint: echo.fingerprint, at: this.options.clock.now() };
    const list = this.unconfirmed.get(key) ?? [];
    if (list.some((e) => e.messageId === echo.messageId)) return;
    this.unconfirmed.set(key, [...list, kept].slice(-KEEP_PER_CONVERSATION));
    await this.update(platform, echo.conversationId, (echoes) => (echoes.some((e) => e.messageId === kept.messageId) ? echoes : [...echoes, kept]));
    for (const wake of this.waiters.get(key)?.splice(0) ?? []) wake();
  }

  /**
   * The id of an echo of a message with `fingerprint` in the conversation that no send was told about
   * (and that `eligible` accepts), taken: it will not be found again. With `wait` (the earlier attempt
   * got no answer), waits up to `echoWaitMs` for one on its way. Undefined: not sent.
   */
  async take(platform: string, conversationId: string, fingerprint: string, options: { eligible?: (messageId: string) => boolean; wait?: boolean } = {}): Promise<string | undefined> {
    if (!this.options.enabled) return undefined;
    try {
      return await this.takeNow(platform, conversationId, fingerprint, options.eligible ?? (() => true), options.wait ?? true);
    } catch (error) {
      // Not knowing is "not sent": the message goes again (at least once, never lost).
      this.options.logger.warn('could not look for the echo of an earlier attempt; sending again', { platform, conversationId, error });
      return undefined;
    }
  }

  private async takeNow(platform: string, conversationId: string, fingerprint: string, eligible: (messageId: string) => boolean, wait: boolean): Promise<string | undefined> {
    const key = `${platform}:${conversationId}`;
    // Counted in pauses, not read off the clock: a test's clock may stand still.
    let pauses = wait ? Math.ceil((this.options.echoWaitMs ?? 5000) / PAUSE_MS) : 0;
    // What an earlier run of this process kept (a crash) is in the store only.
    const stored = await this.read(platform, conversationId);
    const known = this.unconfirmed.get(key) ?? [];
    const merged = [...known, ...stored.filter((s) => !known.some((k) => k.messageId === s.messageId))];
    this.unconfirmed.set(key, merged);
    for (;;) {
      const confirmed = this.confirmedIds.get(key);
      const now = this.options.clock.now();
      const match = (this.unconfirmed.get(key) ?? []).find((e) => e.fingerprint === fingerprint && !confirmed?.has(e.messageId) && now - e.at < KEEP_MS && eligible(e.messageId));
      if (match) {
        this.unconfirmed.set(key, (this.unconfirmed.get(key) ?? []).filter((e) => e !== match));
        // Taken: a redelivered copy of this echo is no evidence for another send either.
        this.remember(key, match.messageId);
        await this.update(platform, conversationId, (echoes) => echoes.filter((e) => e.messageId !== match.messageId));
        this.options.logger.info('an earlier attempt had sent the message: not sent again', { platform, conversationId, messageId: match.messageId });
        return match.messageId;
      }
      if (pauses-- <= 0) return undefined;
      await new Promise<void>((resolve) => {
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
  }

  private storageKey(platform: string, conversationId: string): string {
    return `handoff-echoes/${platform}/${conversationId}`;
  }

  private async read(platform: string, conversationId: string): Promise<Kept[]> {
    const key = this.storageKey(platform, conversationId);
    const doc = (await this.options.storage.read([key]))[key] as KeptDocument | undefined;
    return doc?.echoes ?? [];
  }

  /** Read, change, write with the eTag read (again on a conflict), one at a time per conversation. */
  private update(platform: string, conversationId: string, change: (echoes: Kept[]) => Kept[]): Promise<void> {
    const key = this.storageKey(platform, conversationId);
    const run = async () => {
      for (let attempt = 1; ; attempt++) {
        const doc = (await this.options.storage.read([key]))[key] as KeptDocument | undefined;
        const now = this.options.clock.now();
        const before = doc?.echoes ?? [];
        const after = change(before)
          .filter((e) => now - e.at < KEEP_MS)
          .slice(-KEEP_PER_CONVERSATION);
        if (after.length === before.length && after.every((e, i) => e === before[i])) return;
        try {
          if (after.length === 0 && doc) await this.options.storage.delete([key]);
          else await this.options.storage.write({ [key]: { echoes: after, eTag: doc?.eTag ?? '*' } });
          return;
        } catch (error) {
          if (attempt >= 3) throw error;
        }
      }
    };
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(run, run);
    this.chains.set(key, next);
    const forget = () => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    };
    next.then(forget, forget);
    return next;
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
      if (now - at < KEEP_MS && ids.size <= 200) break;
      ids.delete(id);
    }
  }
}
