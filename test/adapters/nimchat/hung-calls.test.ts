/**
 * Replies under hung calls: 400 customer messages over 20 conversations, and about 5 % of the bot's
 * message requests held past the client's timeout (half of them carried out by Nimchat before the hang,
 * half not). Every message gets exactly one reply: none lost, none posted twice. Every reply is the
 * same text (the menu), so an echo taken for the wrong send would show as a lost or a doubled reply.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MENU_TEXT } from '../../../src/bot/support-dialog';
import { startHarness, type Customer, type Harness } from '../../helpers/harness';
import { seeded } from '../../helpers/seeded';
import { createTestDatabase, dropTestDatabases } from '../../helpers/postgres';

const MESSAGES = /^\/api\/v1\/accounts\/1\/conversations\/\d+\/messages$/;
const CONVERSATIONS = 20;
const EACH = 20;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

afterAll(() => dropTestDatabases());

describe('hung calls', () => {
  // On PostgreSQL the echoes are kept as replicas keep them: in the shared store, read again by a look.
  it.each([{ store: 'memory' }, { store: 'PostgreSQL' }])('5 % of replies held past the timeout, half after Nimchat created them, on $store: every message answered once', async ({ store }) => {
    const random = seeded(Number(process.env.HANG_SEED ?? 7));
    const env: Record<string, string> = store === 'PostgreSQL' ? { STORAGE_URL: await createTestDatabase() } : {};
    h = await startHarness({ env, app: { platformOptions: { nimchat: { http: { timeoutMs: 300 } } }, outbox: { baseDelayMs: 50, maxDelayMs: 200 } } });
    const replyRequest = (body: Record<string, unknown>) => body.private !== true;
    let carriedOut = 0;
    let notCarriedOut = 0;
    // Carried out, then the answer comes after the client gave up.
    h.sandbox.faults.push({ method: 'POST', path: MESSAGES, delayMs: 600, times: 1_000_000, when: (b) => replyRequest(b) && random() < 0.025 && ++carriedOut > 0 });
    // Not carried out, and the (failing) answer comes after the client gave up.
    h.sandbox.faults.push({ method: 'POST', path: MESSAGES, status: 500, delayMs: 600, times: 1_000_000, when: (b) => replyRequest(b) && random() < 0.025 && ++notCarriedOut > 0 });

    const customers: Customer[] = [];
    for (let i = 0; i < CONVERSATIONS; i++) customers.push(await h.customer(`Customer ${i}`));
    await Promise.all(
      customers.map(async (c) => {
        for (let n = 1; n <= EACH; n++) {
          await c.say(`question ${n}`);
          await new Promise((r) => setTimeout(r, 20 + random() * 60));
        }
      }),
    );
    // Everything answered, retries included, then quiet.
    let last = -1;
    for (let waited = 0; waited < 60_000; waited += 500) {
      await h.settle();
      const now = (await Promise.all(customers.map((c) => c.received()))).reduce((n, r) => n + r.length, 0);
      if (now === last && now >= CONVERSATIONS * EACH) break;
      last = now;
      await new Promise((r) => setTimeout(r, 500));
    }
    const received = await Promise.all(customers.map((c) => c.received()));
    const counts = received.map((r) => r.length);
    console.log(`hung calls (${store}): ${CONVERSATIONS * EACH} messages, ${carriedOut} replies held after Nimchat created them, ${notCarriedOut} held without; replies per conversation ${counts.join(',')}`);
    expect(carriedOut).toBeGreaterThan(0);
    expect(notCarriedOut).toBeGreaterThan(0);
    for (const r of received) expect(r).toEqual(Array.from({ length: EACH }, () => MENU_TEXT));
  }, 120_000);
});
