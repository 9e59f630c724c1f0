/** TurnWrites over separate stores: buffered, applied one store after another at commit (not atomic across them). */
import type { Storage, StoreItems } from 'botbuilder-core';
import type { EventInbox } from './event-inbox';
import type { Outbox } from './outbox';
import type { NewOutboxAction, TurnWrites } from './turn-writes';

export class BufferedTurnWrites implements TurnWrites {
  private readonly writes = new Map<string, { item: Record<string, unknown>; eTag?: string }>();
  private readonly deletes = new Set<string>();
  private readonly outboxActions: NewOutboxAction[] = [];
  private readonly done: number[] = [];

  constructor(
    private readonly storage: Storage,
    private readonly outbox: Outbox,
    private readonly inbox: EventInbox,
  ) {}

  async read(keys: string[]): Promise<StoreItems> {
    const items: StoreItems = {};
    const rest: string[] = [];
    for (const key of keys) {
      const written = this.writes.get(key);
      if (written) items[key] = { ...written.item };
      else if (!this.deletes.has(key)) rest.push(key);
    }
    if (rest.length > 0) Object.assign(items, await this.storage.read(rest));
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    for (const [key, value] of Object.entries(changes)) {
      const { eTag, ...item } = (value ?? {}) as { eTag?: string };
      const earlier = this.writes.get(key);
      this.writes.set(key, { item, eTag: earlier ? earlier.eTag : eTag });
      this.deletes.delete(key);
    }
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) {
      this.writes.delete(key);
      this.deletes.add(key);
    }
  }

  addOutbox(action: NewOutboxAction): void {
    this.outboxActions.push(action);
  }

  markInboxDone(id: number): void {
    this.done.push(id);
  }

  async commit(): Promise<{ outboxIds: number[] }> {
    if (this.writes.size > 0) {
      const changes: StoreItems = {};
      for (const [key, { item, eTag }] of this.writes) changes[key] = { ...item, eTag: eTag ?? '*' };
      await this.storage.write(changes);
    }
    if (this.deletes.size > 0) await this.storage.delete([...this.deletes]);
    const outboxIds: number[] = [];
    for (const action of this.outboxActions) outboxIds.push(await this.outbox.add(action));
    for (const id of this.done) await this.inbox.markDone(id);
    return { outboxIds };
  }
}
