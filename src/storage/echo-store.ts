/**
 * Where the platforms' echoes of the bot's own messages are kept until a look before repeating needs
 * them (see SentMessages): added and removed in batches, listed per conversation. Adding an echo that
 * is there already changes nothing.
 */
import type { Storage } from 'botbuilder-core';
import type { Clock } from '../clock';

export interface KeptEcho {
  platform: string;
  conversationId: string;
  /** The platform's id of the message. */
  messageId: string;
  /** What the message was (the platform's fingerprint): equal for a send and its echo. */
  fingerprint: string;
  /** When it arrived (ms). */
  at: number;
}

export type EchoKey = Pick<KeptEcho, 'platform' | 'conversationId' | 'messageId'>;

export interface EchoStore {
  add(echoes: KeptEcho[]): Promise<void>;
  /** The conversation's echoes that arrived at or after `since`, oldest first. */
  list(platform: string, conversationId: string, since: number): Promise<KeptEcho[]>;
  remove(keys: EchoKey[]): Promise<void>;
}

/** Echoes are kept this long: a look happens within minutes of its send, or the send is repeated anyway. */
export const ECHO_KEEP_MS = 60 * 60_000;

/** Echoes kept per conversation at most (a look needs the last few). */
export const ECHOES_PER_CONVERSATION = 50;

interface EchoDocument {
  echoes: Array<Pick<KeptEcho, 'messageId' | 'fingerprint' | 'at'>>;
  eTag?: string;
}

/**
 * Echoes in botbuilder Storage, a document per conversation, for a store one process owns (memory,
 * SQLite): each batch is a read and a write of the documents it touches. Not for a store replicas
 * share: two of them creating one conversation's document at once would lose one's echo.
 */
export class StorageEchoStore implements EchoStore {
  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
    /** Echoes older than this are dropped when their document is written. */
    private readonly keepMs: number,
  ) {}

  add(echoes: KeptEcho[]): Promise<void> {
    return this.change(echoes, (kept, mine) => [...kept, ...mine.filter((e) => !kept.some((k) => k.messageId === e.messageId))]);
  }

  async list(platform: string, conversationId: string, since: number): Promise<KeptEcho[]> {
    const key = documentKey(platform, conversationId);
    const doc = (await this.storage.read([key]))[key] as EchoDocument | undefined;
    return (doc?.echoes ?? []).filter((e) => e.at >= since).map((e) => ({ ...e, platform, conversationId }));
  }

  remove(keys: EchoKey[]): Promise<void> {
    return this.change(keys, (kept, mine) => kept.filter((k) => !mine.some((e) => e.messageId === k.messageId)));
  }

  private async change<T extends EchoKey>(items: T[], apply: (kept: EchoDocument['echoes'], mine: T[]) => EchoDocument['echoes']): Promise<void> {
    const byDocument = new Map<string, T[]>();
    for (const item of items) {
      const key = documentKey(item.platform, item.conversationId);
      byDocument.set(key, [...(byDocument.get(key) ?? []), item]);
    }
    if (byDocument.size === 0) return;
    const docs = await this.storage.read([...byDocument.keys()]);
    const now = this.clock.now();
    const writes: Record<string, EchoDocument> = {};
    const deletes: string[] = [];
    for (const [key, mine] of byDocument) {
      const doc = docs[key] as EchoDocument | undefined;
      const before = doc?.echoes ?? [];
      const after = apply(before, mine)
        .map(({ messageId, fingerprint, at }) => ({ messageId, fingerprint, at }))
        .filter((e) => now - e.at < this.keepMs)
        .slice(-ECHOES_PER_CONVERSATION);
      if (after.length === before.length && after.every((e, i) => e.messageId === before[i]!.messageId)) continue;
      if (after.length === 0) {
        if (doc) deletes.push(key);
      } else writes[key] = { echoes: after, eTag: '*' };
    }
    if (Object.keys(writes).length > 0) await this.storage.write(writes);
    if (deletes.length > 0) await this.storage.delete(deletes);
  }
}

function documentKey(platform: string, conversationId: string): string {
  return `handoff-echoes/${platform}/${conversationId}`;
}
