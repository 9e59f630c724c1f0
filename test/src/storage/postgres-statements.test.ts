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

  it('a customer message answered by the bot: the accept, the claim, the turn commit, the delivery mark that also gives the lease up', async () => {
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
    expect(byName).toEqual({
      handoff_inbox_accept: 1,
      handoff_lease_claim: 1,
      handoff_apply_unit: 1,
      handoff_outbox_done_release: 1,
    });
  });
});
