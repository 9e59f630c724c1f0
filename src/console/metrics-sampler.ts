/**
 * Health over the last hour: every few seconds the app's own prom-client registry (the numbers
 * /metrics serves) is read in process, and the change since the previous reading becomes one sample
 * of a ring buffer: webhooks/s, ack latency p50/p99 (from the histogram's buckets), turns/s, errors
 * and handoffs in the interval, and the backlog.
 */
import type { Metrics } from '../metrics';

export interface HealthSample {
  /** Epoch ms at the end of the interval. */
  t: number;
  webhooksPerSec: number;
  /** Undefined when no webhook was acknowledged in the interval. */
  ackP50Ms?: number;
  ackP99Ms?: number;
  turnsPerSec: number;
  /** Failed turns and platform actions failed for good, in the interval. */
  errors: number;
  /** Handoffs carried out (or failed) in the interval. */
  handoffs: number;
  /** Satisfaction ratings given in the interval, and their sum (an average over any span is sum / count). */
  ratings: number;
  ratingSum: number;
  /** Accepted events not yet processed, and platform actions waiting, at the end of the interval. */
  backlog: number;
  outboxBacklog: number;
}

interface Reading {
  t: number;
  received: number;
  turns: number;
  errors: number;
  handoffs: number;
  ratings: number;
  ratingSum: number;
  /** Cumulative ack counts per bucket upper bound (seconds), summed over platforms. */
  ackBuckets: Map<number, number>;
  backlog: number;
}

type Metric = { get(): Promise<{ values: Array<{ value: number; labels: Record<string, string | number | undefined>; metricName?: string }> }> | { values: Array<{ value: number; labels: Record<string, string | number | undefined>; metricName?: string }> } };

async function total(metric: Metric): Promise<number> {
  return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
}

export interface SamplerOptions {
  everyMs?: number;
  /** Samples kept (default: one hour). */
  capacity?: number;
  now?: () => number;
  /** Platform actions waiting (the delivery's backlog). */
  outboxBacklog?: () => number;
}

export class MetricsSampler {
  readonly everyMs: number;
  private readonly capacity: number;
  private readonly now: () => number;
  private readonly ring: HealthSample[] = [];
  private previous?: Reading;
  private timer?: NodeJS.Timeout;
  private readonly listeners = new Set<(sample: HealthSample) => void>();

  constructor(
    private readonly metrics: Metrics,
    private readonly options: SamplerOptions = {},
  ) {
    this.everyMs = options.everyMs ?? 5000;
    this.capacity = options.capacity ?? Math.ceil(3600_000 / this.everyMs);
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    void this.read().then((r) => (this.previous ??= r));
    this.timer = setInterval(() => void this.sample().catch(() => undefined), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  samples(): HealthSample[] {
    return [...this.ring];
  }

  onSample(listener: (sample: HealthSample) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes one sample now (the timer's work; tests call it directly). */
  async sample(): Promise<HealthSample | undefined> {
    const reading = await this.read();
    const before = this.previous;
    this.previous = reading;
    if (!before) return undefined;
    const seconds = Math.max((reading.t - before.t) / 1000, 0.001);
    const acks = deltaBuckets(before.ackBuckets, reading.ackBuckets);
    const sample: HealthSample = {
      t: reading.t,
      webhooksPerSec: round((reading.received - before.received) / seconds),
      ackP50Ms: msOf(quantile(acks, 0.5)),
      ackP99Ms: msOf(quantile(acks, 0.99)),
      turnsPerSec: round((reading.turns - before.turns) / seconds),
      errors: Math.max(0, reading.errors - before.errors),
      handoffs: Math.max(0, reading.handoffs - before.handoffs),
      ratings: Math.max(0, reading.ratings - before.ratings),
      ratingSum: Math.max(0, reading.ratingSum - before.ratingSum),
      backlog: reading.backlog,
      outboxBacklog: this.options.outboxBacklog?.() ?? 0,
    };
    this.ring.push(sample);
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    for (const listener of this.listeners) listener(sample);
    return sample;
  }

  private async read(): Promise<Reading> {
    const m = this.metrics;
    const ackBuckets = new Map<number, number>();
    for (const v of (await m.webhookAck.get()).values) {
      if (!v.metricName?.endsWith('_bucket')) continue;
      const bound = (v.labels as Record<string, string | number | undefined>).le;
      const le = bound === '+Inf' ? Infinity : Number(bound);
      ackBuckets.set(le, (ackBuckets.get(le) ?? 0) + v.value);
    }
    let ratings = 0;
    let ratingSum = 0;
    for (const v of (await m.satisfaction.get()).values) {
      ratings += v.value;
      ratingSum += v.value * Number(v.labels.rating);
    }
    return {
      t: this.now(),
      ratings,
      ratingSum,
      received: await total(m.webhooksReceived),
      turns: await total(m.turns),
      errors: (await total(m.turnErrors)) + (await total(m.outboxFailed)),
      handoffs: await total(m.handoffs),
      ackBuckets,
      backlog: await total(m.backlog),
    };
  }
}

function deltaBuckets(before: Map<number, number>, after: Map<number, number>): Array<[number, number]> {
  return [...after.entries()].map(([le, n]): [number, number] => [le, n - (before.get(le) ?? 0)]).sort((a, b) => a[0] - b[0]);
}

/** Prometheus's histogram_quantile: linear within the bucket that holds the rank. */
export function quantile(buckets: Array<[number, number]>, q: number): number | undefined {
  const count = buckets.at(-1)?.[1] ?? 0;
  if (count <= 0) return undefined;
  const rank = q * count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [le, cumulative] of buckets) {
    if (cumulative >= rank) {
      if (le === Infinity) return lowerBound;
      const inBucket = cumulative - lowerCount;
      return inBucket <= 0 ? le : lowerBound + (le - lowerBound) * ((rank - lowerCount) / inBucket);
    }
    lowerBound = le;
    lowerCount = cumulative;
  }
  return lowerBound;
}

function msOf(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : Math.round(seconds * 1000 * 100) / 100;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
