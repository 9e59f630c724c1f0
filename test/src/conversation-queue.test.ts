import { describe, expect, it } from 'vitest';
import { ConversationQueue } from '../../src/conversation-queue';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ConversationQueue', () => {
  it('runs one key strictly in order, one at a time, and other keys concurrently', async () => {
    const q = new ConversationQueue();
    const events: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const task = (key: string, n: number, ms: number) => () =>
      (async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        events.push(`${key}${n}:start`);
        await tick(ms);
        events.push(`${key}${n}:end`);
        running--;
      })();
    void q.enqueue('a', task('a', 1, 30));
    void q.enqueue('a', task('a', 2, 1));
    void q.enqueue('b', task('b', 1, 1));
    await q.onIdle();
    const a = events.filter((e) => e.startsWith('a'));
    expect(a).toEqual(['a1:start', 'a1:end', 'a2:start', 'a2:end']);
    expect(events.indexOf('b1:end')).toBeLessThan(events.indexOf('a1:end'));
    expect(maxRunning).toBe(2);
  });

  it('keeps going after a failed task and forgets idle keys', async () => {
    const q = new ConversationQueue();
    const failed = q.enqueue('a', async () => {
      throw new Error('boom');
    });
    const after = q.enqueue('a', async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(after).resolves.toBe('ok');
    await q.onIdle();
    expect(q.activeKeys).toBe(0);
    expect(q.depth).toBe(0);
  });

  it('drain refuses new work and reports whether it finished in time', async () => {
    const q = new ConversationQueue();
    void q.enqueue('a', () => tick(20));
    expect(await q.drain(1000)).toBe(true);
    await expect(q.enqueue('a', async () => 1)).rejects.toThrow('closed');
    const slow = new ConversationQueue();
    void slow.enqueue('a', () => tick(200));
    expect(await slow.drain(10)).toBe(false);
  });
});
