/** Health samples from the registry: rates over the interval and latency quantiles from histogram buckets. */
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/metrics';
import { MetricsSampler, quantile } from '../../../src/console/metrics-sampler';

describe('quantile (histogram_quantile)', () => {
  it('interpolates inside the bucket that holds the rank; undefined without observations', () => {
    const buckets: Array<[number, number]> = [
      [0.001, 50],
      [0.002, 90],
      [0.005, 100],
      [Infinity, 100],
    ];
    expect(quantile(buckets, 0.5)).toBeCloseTo(0.001);
    expect(quantile(buckets, 0.7)).toBeCloseTo(0.0015);
    expect(quantile(buckets, 0.99)).toBeCloseTo(0.0047);
    expect(quantile([[0.001, 0], [Infinity, 0]], 0.5)).toBeUndefined();
    expect(quantile([[0.001, 0], [Infinity, 4]], 0.5)).toBe(0.001); // all past the last bound
  });
});

describe('MetricsSampler', () => {
  it('turns counter deltas into rates and counts, the ack histogram into p50/p99, keeps a bounded ring', async () => {
    const metrics = new Metrics();
    let now = 1_000_000;
    const sampler = new MetricsSampler(metrics, { everyMs: 5000, capacity: 3, now: () => now, outboxBacklog: () => 7 });
    expect(await sampler.sample()).toBeUndefined(); // the baseline
    for (let i = 0; i < 100; i++) {
      metrics.webhooksReceived.inc({ platform: 'nimchat' });
      metrics.webhookAck.observe({ platform: 'nimchat' }, i < 50 ? 0.0008 : 0.004);
    }
    metrics.turns.inc({ platform: 'nimchat', type: 'message' }, 50);
    metrics.turnErrors.inc({ platform: 'nimchat' }, 2);
    metrics.outboxFailed.inc({ platform: 'nimchat', kind: 'handoff' });
    metrics.handoffs.inc({ platform: 'nimchat', outcome: 'accepted' }, 3);
    metrics.backlog.set(4);
    now += 5000;
    const sample = (await sampler.sample())!;
    expect(sample).toMatchObject({ t: now, webhooksPerSec: 20, turnsPerSec: 10, errors: 3, handoffs: 3, backlog: 4, outboxBacklog: 7 });
    expect(sample.ackP50Ms).toBeCloseTo(1, 1);
    expect(sample.ackP99Ms).toBeGreaterThan(4);
    expect(sample.ackP99Ms).toBeLessThanOrEqual(5);
    now += 5000;
    const quiet = (await sampler.sample())!;
    expect(quiet).toMatchObject({ webhooksPerSec: 0, errors: 0, handoffs: 0 });
    expect(quiet.ackP50Ms).toBeUndefined();
    for (let i = 0; i < 3; i++) {
      now += 5000;
      await sampler.sample();
    }
    expect(sampler.samples()).toHaveLength(3);
    expect(sampler.samples().at(-1)!.t).toBe(now);
  });
});
