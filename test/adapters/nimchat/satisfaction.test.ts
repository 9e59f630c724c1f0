/**
 * The satisfaction survey after a human stretch on Nimchat, over loopback: the question is Nimchat's own
 * `input_csat` message, asked once when the stretch ends (given back to the bot, resolved), never while
 * the human has the conversation; the customer's answer (the survey's `message_updated`) is kept with the
 * stretch, counted in /metrics, on the timeline and given to the bot; the inbox's own survey on resolve
 * is not doubled; off unless SATISFACTION_SURVEY is on.
 */
import axios from 'axios';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Customer, type Harness } from '../../helpers/harness';
import { startRestartable, type Restartable } from '../../helpers/restartable';

const surveys = async (c: Customer) => (await c.messages()).filter((m) => m.content_type === 'input_csat');
const satisfactionSeen = (h: Harness) => h.bot.seen.filter((a) => a.name === 'conversation.satisfaction').map((a) => a.value as Record<string, unknown>);

describe('satisfaction after the human stretch (Nimchat)', () => {
  let h: Harness | undefined;
  let r: Restartable | undefined;
  afterEach(async () => {
    await h?.close();
    await r?.close();
    h = r = undefined;
  });

  /** A customer handed to team 1, an agent who answered: the human stretch under way. */
  async function humanStretch(harness: Harness): Promise<Customer> {
    const c = await harness.customer();
    await c.say('I want to talk to a human');
    await harness.settle();
    expect(harness.sandbox.state.conversation(c.conversationId).status).toBe('open');
    await harness.agentSay(c.conversationId, 'Hi, Sam here. Sorted!');
    await harness.settle();
    return c;
  }

  async function answer(harness: Harness, c: Customer, messageId: number, rating: number, feedback?: string): Promise<void> {
    const pub = `${harness.sandbox.baseUrl}/public/api/v1/inboxes/${harness.sandbox.inboxIdentifier}`;
    await axios.patch(`${pub}/contacts/${c.sourceId}/conversations/${c.conversationId}/messages/${messageId}`, {
      message: { submitted_values: { csat_survey_response: { rating, ...(feedback ? { feedback_message: feedback } : {}) } } },
    });
    await harness.settle();
  }

  it('given back to the bot: one input_csat question, the answer kept with the stretch, counted, on the timeline and told to the bot', async () => {
    h = await startHarness({ env: { SATISFACTION_SURVEY: 'true', NIMCHAT_HANDOFF_TEAM_ID: '1' } });
    const c = await humanStretch(h);
    expect(await surveys(c)).toEqual([]); // never while the human has it

    await h.agentSetStatus(c.conversationId, 'pending');
    await h.settle();
    const asked = await surveys(c);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.message_type).toBe(1);
    expect(asked[0]!.content).toContain('How would you rate');

    await answer(h, c, asked[0]!.id, 4, 'Quick and kind');
    // The same answer delivered again (Nimchat's message_updated repeats on later edits) counts once.
    await answer(h, c, asked[0]!.id, 4, 'Quick and kind');
    const told = satisfactionSeen(h);
    expect(told).toEqual([expect.objectContaining({ rating: 4, comment: 'Quick and kind', ended: 'released', team: '1' })]);

    const metrics = (await axios.get(`${h.app.url}/metrics`)).data as string;
    expect(metrics).toMatch(/handoff_satisfaction_ratings_total\{platform="nimchat",rating="4"\} 1/);
    expect(metrics).toMatch(/handoff_satisfaction_surveys_total\{platform="nimchat",outcome="asked"\} 1/);
    const steps = await h.app.stores.timeline.entries(`1:${c.conversationId}`, { limit: 500 });
    const rated = steps.filter((s) => s.kind === 'event' && s.detail.what === 'satisfaction');
    expect(rated).toEqual([expect.objectContaining({ detail: expect.objectContaining({ rating: 4, comment: 'Quick and kind', ended: 'released', team: '1' }) })]);
    expect(steps.some((s) => s.detail.what === 'satisfaction_asked')).toBe(true);
  });

  it('off by default outside the sandbox: no question when the human is done', async () => {
    h = await startHarness();
    const c = await humanStretch(h);
    await h.agentSetStatus(c.conversationId, 'pending');
    await h.settle();
    expect(await surveys(c)).toEqual([]);
    expect(h.bot.seen.filter((a) => a.name === 'handoff.status').map((a) => (a.value as { state: string }).state)).toContain('completed');
  });

  it('resolved by the agent: the question is asked once, with the agent who had it', async () => {
    h = await startHarness({ env: { SATISFACTION_SURVEY: 'true' } });
    const c = await humanStretch(h);
    await h.agentSetStatus(c.conversationId, 'resolved');
    await h.settle();
    const asked = await surveys(c);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.message_type).toBe(1); // the bot's
    await answer(h, c, asked[0]!.id, 2);
    expect(satisfactionSeen(h)).toEqual([expect.objectContaining({ rating: 2, ended: 'resolved', agent: expect.any(String) })]);
    expect(satisfactionSeen(h)[0]!.comment).toBeUndefined();
    // The customer writes again: Nimchat reopens it for the bot. That stretch was surveyed already.
    await c.say('one more question');
    await h.settle();
    expect(h.sandbox.state.conversation(c.conversationId).status).toBe('pending');
    expect(await surveys(c)).toHaveLength(1);
  });

  it('the inbox has its own survey on resolve: Nimchat asks, the bot does not ask again, and the answer is kept', async () => {
    h = await startHarness({ env: { SATISFACTION_SURVEY: 'true' }, apiToken: true });
    h.sandbox.state.inboxes.find((i) => i.id === 1)!.csat_survey_enabled = true;
    const c = await humanStretch(h);
    await h.agentSetStatus(c.conversationId, 'resolved');
    await h.settle();
    const asked = await surveys(c);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.message_type).toBe(3); // Nimchat's own (a template message)
    const steps = await h.app.stores.timeline.entries(`1:${c.conversationId}`, { limit: 500 });
    expect(steps.filter((s) => s.kind === 'delivery' && s.detail.action === 'survey' && s.detail.outcome === 'done')).toHaveLength(1);
    await answer(h, c, asked[0]!.id, 5, 'Great');
    expect(satisfactionSeen(h)).toEqual([expect.objectContaining({ rating: 5, comment: 'Great', ended: 'resolved' })]);
  });

  it('a restart between the question and the answer: the answer is kept with the stretch it rates', async () => {
    r = await startRestartable(Date.parse('2026-12-07T10:00:00Z'), { SATISFACTION_SURVEY: 'true' });
    await r.start();
    const c = await r.customer();
    await c.say('I want to talk to a human');
    await r.settle();
    await r.agentSay(c.id, 'Hi, Sam here.');
    await r.settle();
    await r.agentSetStatus(c.id, 'pending');
    await r.settle();
    const asked = r.sandbox.state.conversation(c.id).messages.filter((m) => m.content_type === 'input_csat');
    expect(asked).toHaveLength(1);
    await r.stop();

    await r.start();
    const pub = `${r.sandbox.baseUrl}/public/api/v1/inboxes/${r.sandbox.inboxIdentifier}`;
    const contact = r.sandbox.state.conversation(c.id);
    const sourceId = [...r.sandbox.state.contactInboxes.values()].find((ci) => ci.id === contact.contactInboxId)!.sourceId;
    await axios.patch(`${pub}/contacts/${sourceId}/conversations/${c.id}/messages/${asked[0]!.id}`, { submitted_values: { csat_survey_response: { rating: 3, feedback_message: 'slow' } } });
    await r.settle();
    const told = r.seen.filter((a) => a.name === 'conversation.satisfaction').map((a) => a.value);
    expect(told).toEqual([expect.objectContaining({ rating: 3, comment: 'slow', ended: 'released', team: '1', agent: expect.any(String) })]);
    // Not asked again by the second run.
    expect(r.sandbox.state.conversation(c.id).messages.filter((m) => m.content_type === 'input_csat')).toHaveLength(1);
  });
});
