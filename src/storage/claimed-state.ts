/**
 * State a replica read with a conversation's lease (the claim), kept for that conversation's next
 * turn: the turn's own read of the same keys is then served from here, once, instead of another round
 * trip. Only the lease holder writes a conversation's state; its writes outside a turn (the store's own
 * `write`/`delete`) make what was read of those keys stale, and the runner drops what the turn did not
 * take once the first event has run.
 */
import type { StoreItems } from 'botbuilder-core';

export class ClaimedState {
  /** Per conversation: the keys read (absent ones included) and the items found. */
  private readonly byConversation = new Map<string, { keys: Set<string>; items: StoreItems }>();

  put(conversationId: string, keys: readonly string[], items: StoreItems): void {
    this.byConversation.set(conversationId, { keys: new Set(keys), items });
  }

  /**
   * The items of `keys` read with a claim (all of them, or nothing) and the keys it did not read.
   * A conversation's claimed state is served once: taken, it is gone.
   */
  take(keys: readonly string[]): { items: StoreItems; missing: string[] } {
    for (const [conversationId, claimed] of this.byConversation) {
      if (!keys.some((key) => claimed.keys.has(key))) continue;
      this.byConversation.delete(conversationId);
      const items: StoreItems = {};
      const missing: string[] = [];
      for (const key of keys) {
        if (!claimed.keys.has(key)) missing.push(key);
        else if (claimed.items[key] !== undefined) items[key] = claimed.items[key];
      }
      return { items, missing };
    }
    return { items: {}, missing: [...keys] };
  }

  drop(conversationId: string): void {
    this.byConversation.delete(conversationId);
  }

  /** Keys written outside a turn (work of the conversation's holder that carries no unit): what was read of them is stale. */
  forget(keys: readonly string[]): void {
    for (const [conversationId, claimed] of this.byConversation) if (keys.some((key) => claimed.keys.has(key))) this.byConversation.delete(conversationId);
  }
}
