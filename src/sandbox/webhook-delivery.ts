/**
 * Webhook delivery the way the platforms do it: from background workers (so not ordered), one
 * delivery id per event kept across retries, a timeout per attempt, a fixed number of attempts on the
 * statuses the platform retries, every other failure final at once. Each emulation signs its own.
 */
import { randomUUID } from 'node:crypto';
import axios from 'axios';

export interface DeliveryOptions {
  timeoutMs: number;
  attempts: number;
  retryDelayMs: number;
  concurrency: number;
  now: () => number;
}

export interface DeliveryJob {
  url: string;
  /** What the record calls the event (e.g. `message_created`, `INBOUND`). */
  event: string;
  body: string;
  /** Headers of one attempt (signatures are computed per attempt: timestamps change). */
  headers: (deliveryId: string) => Record<string, string>;
  /** Statuses that make the platform try again (Nimchat: 429 and 500). */
  retryOn: (status: number) => boolean;
  /** Jobs with the same key are delivered one after another, in order (a test's choice: platforms do not promise it). */
  orderKey?: string;
}

export interface DeliveryRecord {
  deliveryId: string;
  event: string;
  url: string;
  /** The JSON delivered (tests read what was accepted). */
  body: string;
  statuses: Array<number | string>;
  outcome: 'pending' | 'delivered' | 'failed';
}

export class WebhookDeliverer {
  readonly log: DeliveryRecord[] = [];
  private readonly waiting: Array<{ job: DeliveryJob; record: DeliveryRecord; onFinalFailure?: () => void }> = [];
  private running = 0;
  private readonly busyKeys = new Set<string>();
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: DeliveryOptions) {}

  /** Queues a delivery; `onFinalFailure` runs when every attempt failed. */
  deliver(job: DeliveryJob, onFinalFailure?: () => void): DeliveryRecord {
    const record: DeliveryRecord = { deliveryId: randomUUID(), event: job.event, url: job.url, body: job.body, statuses: [], outcome: 'pending' };
    this.log.push(record);
    this.waiting.push({ job, record, onFinalFailure });
    this.pump();
    return record;
  }

  get pending(): number {
    return this.waiting.length + this.running;
  }

  /** Resolves when no delivery is queued or in flight. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.waiting.length > 0) {
      // The oldest job whose order key has nothing in flight (jobs without a key are always free).
      const index = this.waiting.findIndex((w) => w.job.orderKey === undefined || !this.busyKeys.has(w.job.orderKey));
      if (index < 0) return;
      const next = this.waiting.splice(index, 1)[0]!;
      const key = next.job.orderKey;
      if (key !== undefined) this.busyKeys.add(key);
      this.running++;
      void this.run(next.job, next.record)
        .then((ok) => {
          if (!ok) next.onFinalFailure?.();
        })
        .finally(() => {
          this.running--;
          if (key !== undefined) this.busyKeys.delete(key);
          this.pump();
          if (this.pending === 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const w of waiters) w();
          }
        });
    }
  }

  private async run(job: DeliveryJob, record: DeliveryRecord): Promise<boolean> {
    const body = job.body;
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      const headers = { 'Content-Type': 'application/json', ...job.headers(record.deliveryId) };
      let status: number | string;
      try {
        const res = await axios.post(job.url, body, { headers, timeout: this.options.timeoutMs, validateStatus: () => true, transformRequest: [(d: unknown) => d] });
        status = res.status;
      } catch (error) {
        status = (error as { code?: string }).code ?? 'error';
      }
      record.statuses.push(status);
      if (typeof status === 'number' && status >= 200 && status < 300) {
        record.outcome = 'delivered';
        return true;
      }
      const retryable = typeof status === 'number' && job.retryOn(status);
      if (!retryable || attempt === this.options.attempts) break;
      await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs));
    }
    record.outcome = 'failed';
    return false;
  }
}
