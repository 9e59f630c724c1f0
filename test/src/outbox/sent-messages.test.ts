/**
 * SentMessages with replicas sharing a store (two instances on one store stand for two replicas), and
 * its group-committed writes.
 */
import { describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../../src/log';
import { SentMessages } from '../../../src/outbox/sent-messages';
import { StoreUnavailableError } from '../../../src/errors';
import { isRetryableError } from '../../../src/http/retry-policy';
import { SettledElsewhereError, type StepProgress } from '../../../src/outbox/step-progress';
import type { EchoKey, EchoStore, KeptEcho } from '../../../src/storage/echo-store';
import { TestClock } from '../../helpers/test-clock';

/** Rows keyed by platform, conversation and message id, as a shared database keeps them; calls counted. */
class RowEchoStore implements EchoStore {
  readonly rows = new Map<string, KeptEcho>();
  calls = 0;
  async add(echoes: KeptEcho[]): Promise<void> {
    if (echoes.length === 0) return;
    this.calls++;
    for (const e of echoes) if (!this.rows.has(rowKey(e))) this.rows.set(rowKey(e), e);
  }
  async list(platform: string, conversationId: string, since: number): Promise<KeptEcho[]> {
    return [...this.rows.values()].filter((e) => e.platform === platform && e.conversationId === conversationId && e.at >= since);
  }
  async remove(keys: EchoKey[]): Promise<void> {
    if (keys.length === 0) return;
    this.calls++;
    for (const k of keys) this.rows.delete(rowKey(k));
  }
}
const rowKey = (k: EchoKey) => `${k.platform}|${k.conversationId}|${k.messageId}`;

function replicas(echoes = new RowEchoStore()) {
  const clock = new TestClock(1_000_000);
  const make = () => new SentMessages({ echoes, clock, logger: silentLogger, shared: true, echoWaitMs: 1000 });
  return { echoes, clock, a: make(), b: make(), c: make() };
}

/** An outbox action's progress after an attempt whose outcome is unknown. */
function repeated(earlier: string[] = []): StepProgress {
  return { repeated: true, unanswered: true, earlierResults: async () => earlier, done: () => false, mark: async () => undefined };
}

const CONVERSATION = '1:7';

describe('SentMessages with replicas', () => {
  it("an echo that reached the other replica is found by the sender's look, also when it comes during the look", async () => {
    const { a, b } = replicas();
    await b.echoed('nimchat', { conversationId: CONVERSATION, messageId: '40', fingerprint: 'menu' });
    expect(await a.earlierSend(repeated(['39']), 'nimchat', CONVERSATION, 'menu', { order: Number })).toBe('40');

    // The next one's echo is still on its way when the look starts.
    const look = a.earlierSend(repeated(['40']), 'nimchat', CONVERSATION, 'menu', { order: Number });
    await new Promise((r) => setTimeout(r, 250));
    await b.echoed('nimchat', { conversationId: CONVERSATION, messageId: '41', fingerprint: 'menu' });
    expect(await look).toBe('41');
  });

  it("the echo of a send one replica confirmed, kept by another, is never taken by a third for a later send: the earlier action's result rules it out", async () => {
    const { a, b, c } = replicas();
    // A sent "menu" (answer: w1, confirmed by A); its echo reached B, which cannot know.
    await a.confirmed('woztell', CONVERSATION, 'w1');
    await b.echoed('woztell', { conversationId: CONVERSATION, messageId: 'w1', fingerprint: 'menu' });
    // A is gone; C holds the conversation now. The same text again, its attempt refused before the
    // platform did anything: there is nothing to find.
    const progress = { ...repeated(['w0 w1']), unanswered: false };
    expect(await c.earlierSend(progress, 'woztell', CONVERSATION, 'menu', { idsOf: (r) => r.split(' ') })).toBeUndefined();
    // Without the earlier results it would have been taken.
    expect(await c.earlierSend({ ...progress }, 'woztell', CONVERSATION, 'menu')).toBe('w1');
  });

  it('an echo that never comes, of a send the replica before marked done meanwhile: the look ends with "finished elsewhere", not a second send', async () => {
    const { a } = replicas();
    let settled = false;
    const progress: StepProgress = { ...repeated(), settledElsewhere: async () => settled };
    const look = a.earlierSend(progress, 'nimchat', CONVERSATION, 'menu');
    // The replica that sent it (its echo refused while the database was down) writes its done mark at last.
    setTimeout(() => (settled = true), 200);
    await expect(look).rejects.toBeInstanceOf(SettledElsewhereError);
    // Not finished elsewhere, and no echo: sent again after the wait (at least once).
    expect(await a.earlierSend({ ...repeated(), settledElsewhere: async () => false }, 'nimchat', CONVERSATION, 'menu')).toBeUndefined();
  });

  it('a look that waited in vain says so in the log, with the conversation (an operator can tell a late echo from a send that never happened)', async () => {
    const lines: string[] = [];
    const echoes = new RowEchoStore();
    const a = new SentMessages({ echoes, clock: new TestClock(1_000_000), logger: createLogger({ write: (l) => lines.push(l) }), shared: true, echoWaitMs: 200 });
    expect(await a.earlierSend(repeated(), 'nimchat', CONVERSATION, 'menu')).toBeUndefined();
    expect(lines.filter((l) => l.includes('no echo of the earlier attempt came')).map((l) => JSON.parse(l).conversationId)).toEqual([CONVERSATION]);
    // An answered attempt (nothing on its way) is no wait, and no such line.
    expect(await a.earlierSend({ ...repeated(), unanswered: false }, 'nimchat', CONVERSATION, 'menu')).toBeUndefined();
    expect(lines.filter((l) => l.includes('no echo of the earlier attempt came'))).toHaveLength(1);
  });

  it('ordered ids: nothing older than the latest earlier result is taken', async () => {
    const { a, b } = replicas();
    await b.echoed('nimchat', { conversationId: CONVERSATION, messageId: '12', fingerprint: 'menu' });
    expect(await a.earlierSend({ ...repeated(['15']), unanswered: false }, 'nimchat', CONVERSATION, 'menu', { order: Number })).toBeUndefined();
  });

  it('not knowing the earlier results, or the stored echoes, is neither "sent" nor "not sent": the action is tried again (a retryable error), never sent blindly', async () => {
    const { a, b, echoes } = replicas();
    await b.echoed('nimchat', { conversationId: CONVERSATION, messageId: '12', fingerprint: 'menu' });
    const progress: StepProgress = { ...repeated(), earlierResults: async () => Promise.reject(new Error('database down')) };
    const noResults = a.earlierSend(progress, 'nimchat', CONVERSATION, 'menu', { order: Number });
    await expect(noResults).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(isRetryableError(await noResults.catch((e: unknown) => e))).toBe(true);

    const list = echoes.list.bind(echoes);
    echoes.list = async () => Promise.reject(new Error('database down'));
    await expect(a.earlierSend(repeated(['11']), 'nimchat', CONVERSATION, 'menu', { order: Number })).rejects.toBeInstanceOf(StoreUnavailableError);
    // The store back: the next attempt's look finds the echo (not sent again).
    echoes.list = list;
    expect(await a.earlierSend(repeated(['11']), 'nimchat', CONVERSATION, 'menu', { order: Number })).toBe('12');
  });

  it('echoes that arrive together are written together: one statement for a batch', async () => {
    const { echoes, b } = replicas();
    await b.echoed('nimchat', { conversationId: '1:0', messageId: '1', fingerprint: 'x' });
    const before = echoes.calls;
    await Promise.all(Array.from({ length: 20 }, (_, i) => b.echoed('nimchat', { conversationId: `1:${i + 1}`, messageId: String(100 + i), fingerprint: 'x' })));
    // The first starts a batch of its own; the other nineteen wait for it and go in the next.
    expect(echoes.calls - before).toBeLessThanOrEqual(2);
    expect(echoes.rows.size).toBe(21);
  });

  it('a batch that cannot be written fails every echo in it (the webhook is then delivered again); the next batch is written', async () => {
    const { echoes, b } = replicas();
    const add = echoes.add.bind(echoes);
    let fail = true;
    echoes.add = async (e) => {
      if (fail) {
        fail = false;
        throw new Error('database down');
      }
      return add(e);
    };
    await expect(b.echoed('nimchat', { conversationId: '1:1', messageId: '1', fingerprint: 'x' })).rejects.toThrow('database down');
    await b.echoed('nimchat', { conversationId: '1:1', messageId: '1', fingerprint: 'x' });
    expect(echoes.rows.size).toBe(1);
  });
});
