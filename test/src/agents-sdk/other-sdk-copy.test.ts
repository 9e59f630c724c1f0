/**
 * `handoff serve --bot` on an agent of another project: its `node_modules` has its own copy of the
 * Agents SDK, whose AgentApplication is not this package's. The agent is still recognised as an
 * Agents SDK agent and given turn contexts of its own copy (otherwise it would be run as a botbuilder
 * bot and never answer).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBotModule } from '../../../src/hosting/load-bot-module';
import { startHarness, type Harness } from '../../helpers/harness';

const ROOT = path.resolve(__dirname, '../../..');
let project = '';
let h: Harness | undefined;

beforeAll(() => {
  // Inside this checkout's node_modules, so the copy's own dependencies resolve upwards to ours.
  fs.mkdirSync(path.join(ROOT, 'node_modules/.cache'), { recursive: true });
  project = fs.mkdtempSync(path.join(ROOT, 'node_modules/.cache/other-agent-'));
  const copy = path.join(project, 'node_modules/@microsoft/agents-hosting');
  fs.cpSync(path.join(ROOT, 'node_modules/@microsoft/agents-hosting'), copy, { recursive: true });
  fs.writeFileSync(
    path.join(project, 'agent.js'),
    [
      "const { AgentApplication } = require('@microsoft/agents-hosting');",
      'const agent = new AgentApplication();',
      "agent.onActivity('message', async (context) => { await context.sendActivity(`You said: ${context.activity.text}`); });",
      'module.exports = agent;',
    ].join('\n'),
  );
});

afterAll(async () => {
  await h?.close();
  fs.rmSync(project, { recursive: true, force: true });
});

describe('an Agents SDK agent with its own copy of the SDK', () => {
  it('is served as an agent: it answers on Nimchat', async () => {
    const { source } = await loadBotModule(path.join(project, 'agent.js'));
    // Not this package's AgentApplication: a copy of its own.
    expect(require.resolve('@microsoft/agents-hosting', { paths: [project] })).not.toBe(require.resolve('@microsoft/agents-hosting'));
    h = await startHarness({ app: { createBot: undefined, bot: source, handoffOnRequest: false } });
    expect(h.app.botDescription).toBe('your bot (Microsoft 365 Agents SDK)');
    const c = await h.customer('Ada');
    await c.say('hello');
    await h.settle();
    expect(await c.received()).toEqual(['You said: hello']);
  });
});
