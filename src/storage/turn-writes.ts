/** A turn's writes, buffered and committed together (interface; engines implement it). */
import type { StoreItems } from 'botbuilder-core';

export interface NewOutboxAction {
  platform: string;
  conversationId: string;
  kind: string;
  payload: unknown;
}

export interface TurnWrites {
  /** botbuilder Storage semantics; reads see this unit's own buffered writes and deletes first. */
  read(keys: string[]): Promise<StoreItems>;
  /** Buffered. An eTag other than '*'/absent is checked at commit against the stored row. */
  write(changes: StoreItems): Promise<void>;
  delete(keys: string[]): Promise<void>;
  /** An outbox row added by the commit, in call order. */
  addOutbox(action: NewOutboxAction): void;
  /** An inbox event marked done by the commit. */
  markInboxDone(id: number): void;
  /** Everything above in one transaction. Resolves with the new outbox ids in addOutbox order. */
  commit(): Promise<{ outboxIds: number[] }>;
}
