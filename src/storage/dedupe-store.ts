/** Remembers idempotency keys (delivery ids, message ids) for a while, so redeliveries run no turn. */
import { systemClock, type Clock } from '../clock';

export interface DedupeStore {
  /**
   * Atomically: if any of `keys` was remembered and has not expired, returns true (a duplicate) and
   * remembers nothing; otherwise remembers all of them for `ttlMs` and returns false.
   */
  checkAndRemember(keys: string[], ttlMs: number): Promise<boolean>;
  /** Forgets keys (used when an accepted event could not be queued, so a redelivery is not lost). */
  forget(keys: string[]): Promise<void>;
}

/** In-memory dedupe store, bounded: the oldest keys are dropped past `maxKeys`. */
export class MemoryDedupeStore implements DedupeStore {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly maxKeys = 200_000,
    private readonly clock: Clock = systemClock,
  ) {}

  get size(): number {
    return this.expiries.size;
  }

  async checkAndRemember(keys: string[], ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    for (const key of keys) {
      const expiry = this.expiries.get(key);
      if (expiry !== undefined && expiry > now) return true;
    }
    for (const key of keys) {
      this.expiries.delete(key); // re-insert so Map order stays oldest-first
      this.expiries.set(key, now + ttlMs);
    }
    this.evict(now);
    return false;
  }

  async forget(keys: string[]): Promise<void> {
    for (const key of keys) this.expiries.delete(key);
  }

  private evict(now: number): void {
    for (const [key, expiry] of this.expiries) {
      if (this.expiries.size <= this.maxKeys && expiry > now) break;
      this.expiries.delete(key);
    }
  }
}
