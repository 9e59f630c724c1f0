/**
 * The app on PostgreSQL end to end (Nimchat sandbox over loopback): webhooks accepted into the
 * database, turns committed there, the handoff carried out from its outbox, the bot silent while a
 * human owns the conversation, /readyz checking the database; a second start on the same database
 * finds the ownership and transcript.
 */
import axios from 'axios';
import { afterAll, describe, expect, it } from 'vitest';
import { STILL_LOOKING_TEXT } from '../../../dialogs/handoff-wait/wait-notices';
import { startHarness, type Harness } from '../../helpers/harness';
import { createTestDatabase, dropTestDatabases } from '../../helpers/postgres';

const MENU = 'How can I help you today?';
const harnesses: Harness[] = [];
afterAll(async () => {
  for (const h of harnesses.splice(0)) await h.close().catch(() => undefined);
  await dropTestDatabases();
});

describe('the app with STORAGE_URL=postgres://…', () => {
  it('menu, handoff and one wait notice; /readyz checks the database; state is there for the next start', async () => {
    const url = await createTestDatabase();
    const h = await startHarness({ env: { STORAGE_URL: url, NIMCHAT_HANDOFF_TEAM_ID: '1' } });
    harnesses.push(h);
    expect(h.app.stores.describe).not.toContain(new URL(url).password);
    expect((await axios.get(`${h.app.url}/readyz`)).data).toEqual({ status: 'ready' });
    const c = await h.customer('Ada');
    await c.say('hello');
    await h.settle();
    expect(await c.received()).toEqual([MENU]);
    await c.say('I want a human');
    await h.settle();
    expect(h.botCalls(c.conversationId)).toEqual(['POST /messages', 'POST /messages', 'POST /messages', 'POST /assignments', 'POST /toggle_status']);
    const before = (await c.received()).length;
    await c.say('anyone?');
    await h.settle();
    // Waiting for a human: one gentle notice, nothing more from the bot.
    expect((await c.received()).slice(before)).toEqual([STILL_LOOKING_TEXT]);
    expect(h.logLines.join('\n')).not.toContain(new URL(url).password);
    const stored = h.app.stores.storage;
    const keys = [`ownership/nimchat/1:${c.conversationId}`, `transcript/nimchat/1:${c.conversationId}`];
    const items = await stored.read(keys);
    expect(items[keys[0]!]).toMatchObject({ owner: 'human' });
    expect(JSON.stringify(items[keys[1]!])).toContain('I want a human');
    await h.close();
    harnesses.splice(harnesses.indexOf(h), 1);

    const again = await startHarness({ env: { STORAGE_URL: url } });
    harnesses.push(again);
    expect(await again.app.stores.storage.read(keys)).toEqual(items);
    expect(await again.app.stores.outbox.pending()).toHaveLength(0);
    await again.app.stores.close();
    const ready = await axios.get(`${again.app.url}/readyz`, { validateStatus: () => true });
    expect(ready.status).toBe(503);
  });
});
