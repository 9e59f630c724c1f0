/** The stores of `memory:`: the same contracts as SQLite in process memory; nothing survives a restart. */
import { systemClock } from '../clock';
import type { Stores, StoresOptions } from './stores';
import { MemoryDedupeStore } from './dedupe-store';
import { ECHO_KEEP_MS, StorageEchoStore } from './echo-store';
import { MemoryEventInbox } from './event-inbox';
import { MemoryStateStorage } from './memory-state-storage';
import { MemoryOutbox } from './outbox';
import { MemoryTimerStore } from './timer-store';
import { BufferedTurnWrites } from './turn-writes';
import { MemoryTimeline } from './timeline';

export function createMemoryStores(options: StoresOptions = {}): Stores {
  const clock = options.clock ?? systemClock;
  const storage = new MemoryStateStorage();
  const dedupe = new MemoryDedupeStore(200_000, clock);
  const timeline = new MemoryTimeline(() => clock.now());
  const inbox = new MemoryEventInbox(dedupe, clock, timeline);
  const outbox = new MemoryOutbox(clock, timeline);
  return {
    storage,
    dedupe,
    inbox,
    outbox,
    timers: new MemoryTimerStore(),
    timeline,
    echoes: new StorageEchoStore(storage, clock, ECHO_KEEP_MS),
    describe: 'memory',
    checkWritable: async () => undefined,
    prune: async () => ({ inbox: 0, outbox: 0, dedupe: 0, transcripts: 0, state: 0 }),
    beginTurn: () =>
      new BufferedTurnWrites(
        (keys) => storage.read(keys),
        async (changes) => {
          // Synchronous from the eTag check to the last change: all of it, or (a conflict) none.
          storage.applyNow(changes.state);
          const outboxIds = changes.outbox.map((action) => outbox.addNow(action));
          for (const id of changes.inboxDone) inbox.markDoneNow(id);
          timeline.recordNow(changes.timeline);
          return { outboxIds };
        },
      ),
    close: async () => undefined,
  };
}
