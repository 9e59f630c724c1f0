/**
 * The Storage bots and the pipeline use: inside a turn, reads and writes go to the turn's own writes
 * (committed once when the turn ends, with its outgoing effects); outside, to the store.
 */
import type { Storage, StoreItems } from 'botbuilder-core';
import { currentUnit } from '../turn-scope';

export class TurnStorage implements Storage {
  constructor(private readonly store: Storage) {}

  read(keys: string[]): Promise<StoreItems> {
    return (currentUnit()?.writes ?? this.store).read(keys);
  }

  write(changes: StoreItems): Promise<void> {
    return (currentUnit()?.writes ?? this.store).write(changes);
  }

  delete(keys: string[]): Promise<void> {
    return (currentUnit()?.writes ?? this.store).delete(keys);
  }
}
