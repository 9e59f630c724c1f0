import { describe, expect, it } from 'vitest';
import { TurnAdmission } from '../../../src/pipeline/turn-admission';

describe('TurnAdmission', () => {
  it('runs at most `limit` at once, the rest first come first served, and every one to the end', async () => {
    const admission = new TurnAdmission(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const releases: Array<() => void> = [];
    const runs = [0, 1, 2, 3, 4].map((i) =>
      admission.run(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(admission.queued).toBe(3);
    releases[1]!();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    // one arriving now queues behind the ones already waiting
    const late = admission.run(async () => (started.push(9), 9));
    for (let i = 0; i < 6; i++) {
      releases.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(runs);
    await late;
    expect(started).toEqual([0, 1, 2, 3, 4, 9]);
    expect(peak).toBe(2);
    expect(admission.active).toBe(0);
  });

  it('frees the place of a run that fails', async () => {
    const admission = new TurnAdmission(1);
    await expect(admission.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await admission.run(async () => 'next')).toBe('next');
    expect(() => new TurnAdmission(0)).toThrow(RangeError);
  });
});
