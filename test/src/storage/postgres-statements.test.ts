/**
 * The database work of one webhook on PostgreSQL (the replicas' path), counted: every statement the
 * app sends while customers' messages are answered, per webhook, by name. A change that adds a round
 * trip to the webhook's path fails here. Periodic work (the sweep for unowned conversations, lease
 * renewals, timers) is not the webhook's and is left out.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import sinon from 'sinon';
import { PostgresDatabase, type Statement } from '../../../src/storage/postgres-database';
import { startHarness, type Harness } from '../../helpers/harness';
import { silentLogger } from '../../../src/log';
import { createPostgresStores, type PostgresStores } from '../../../src/storage/postgres-stores';
import { createTestDatabase, dropTestDatabases } from '../../helpers/postgres';

const PERIODIC = new Set(['handoff_unleased_work', 'handoff_lease_renew', 'handoff_timers_due', 'handoff_health']);

describe('statements per webhook on PostgreSQL', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    sinon.restore();
    await h?.close();
    h = undefined;
  });
  afterAll(() => dropTestDatabases());

  it('a customer message answered by the bot: the accept that takes the lease, the turn commit, the delivery mark that gives it up', async () => {
    h = await startHarness({ env: { STORAGE_URL: await createTestDatabase() }, sandbox: { deliveryOrderedPerConversation: true } });
    const customers = await Promise.all(['Ada', 'Bo', 'Cy'].map((name) => h!.customer(name)));
    for (const c of customers) await c.say('hi'); // a first message: the conversation and its transcript begin
    await h.settle();

    const names: string[] = [];
    const query = PostgresDatabase.prototype.query;
    sinon.replace(PostgresDatabase.prototype, 'query', function (this: PostgresDatabase, statement: Statement, values?: unknown[]) {
      names.push(statement.name ?? statement.text.slice(0, 40));
      return query.call(this, statement, values);
    } as typeof query);
    const rounds = 4;
    for (let i = 0; i < rounds; i++) {
      for (const c of customers) await c.say(`where is my order ${i}`);
      await h.settle();
    }
    const webhooks = rounds * customers.length;
    const counted = names.filter((n) => !PERIODIC.has(n));
    const byName = Object.fromEntries([...new Set(counted)].map((n) => [n, counted.filter((x) => x === n).length / webhooks]));
    expect(await Promise.all(customers.map(async (c) => (await c.received()).length))).toEqual([5, 5, 5]);
    // Done marks of replies that end at the same moment share one statement: at most one per webhook.
    const { handoff_outbox_done_batch: marks, ...rest } = byName;
    expect(rest).toEqual({ handoff_inbox_accept_claim: 1, handoff_apply_unit: 1 });
    expect(marks).toBeGreaterThan(0);
    expect(marks).toBeLessThanOrEqual(1);
  });

  it('messages of one conversation accepted at the same moment: one takes the lease with its accept, each is started once and answered once', async () => {
    h = await startHarness({ env: { STORAGE_URL: await createTestDatabase() } });
    const customers = await Promise.all(['Ada', 'Bo'].map((name) => h!.customer(name)));
    for (let i = 0; i < 6; i++) {
      await Promise.all(customers.flatMap((c) => [c.say(`a${i}`), c.say(`b${i}`), c.say(`c${i}`)]));
      await h.settle();
    }
    const db = (h.app.stores as unknown as { database: PostgresDatabase }).database;
    const { rows } = await db.query<{ attempts: number; done: boolean }>({ name: 'test_inbox_attempts', text: 'SELECT attempts, done_at IS NOT NULL AS done FROM handoff_inbox' });
    expect(rows).toHaveLength(36);
    if (rows.some((r) => r.attempts !== 1)) console.log(h.logLines.filter((l) => /error|warn|again|mid-turn/.test(l)).join('\n'));
    expect(rows.filter((r) => !r.done || r.attempts !== 1)).toEqual([]);
    const turns = h.bot.seen.filter((a) => a.type === 'message').map((a) => a.text);
    expect(turns).toHaveLength(36);
    expect(new Set(turns).size).toBe(18); // each text once per customer, none twice
  });

  it('done marks asked for at the same moment are one statement; a mark gives the lease up only when nothing is left', async () => {
    const stores: PostgresStores = createPostgresStores(await createTestDatabase(), silentLogger, { replicaId: 'replica-a' });
    await stores.open();
    try {
      const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => stores.outbox.add({ platform: 'nimchat', conversationId: `c${n}`, kind: 'message', payload: { n } })));
      const names: string[] = [];
      const query = PostgresDatabase.prototype.query;
      sinon.replace(PostgresDatabase.prototype, 'query', function (this: PostgresDatabase, statement: Statement, values?: unknown[]) {
        names.push(statement.name ?? '');
        return query.call(this, statement, values);
      } as typeof query);
      await Promise.all(ids.map((id, i) => stores.outbox.markDone(id, undefined, `m${i}`)));
      expect(names).toEqual(['handoff_outbox_done_batch']);
      expect((await stores.outbox.pending()).length).toBe(0);

      // The lease goes with the last mark of a conversation with nothing else to do; not while another action waits.
      const [first, second] = [await stores.outbox.add({ platform: 'nimchat', conversationId: 'd', kind: 'message', payload: 1 }), await stores.outbox.add({ platform: 'nimchat', conversationId: 'd', kind: 'message', payload: 2 })];
      expect((await stores.replicas!.claim('d', 30_000)).held).toBe(true);
      expect(await stores.outbox.markDoneAndRelease!(first, 'replica-a')).toBe(false);
      expect(await stores.leases.holder('d')).toBe('replica-a');
      expect(await stores.outbox.markDoneAndRelease!(second, 'replica-a')).toBe(true);
      expect(await stores.leases.holder('d')).toBeUndefined();
    } finally {
      sinon.restore();
      await stores.close();
    }
  });
});
