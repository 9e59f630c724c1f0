/**
 * A platform is one folder: everything a new platform needs is defined here, in the test folder
 * (its fake API, its connector, its `Platform`), and given to the app next to the default ones. No
 * core file changes: the toy platform gets its route, its configuration from its own variables,
 * durable turns, the example bot's menu and a real handoff with the transcript, and refusals for a
 * wrong secret, like the platforms that ship.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ActivityTypes, type Activity } from 'botbuilder-core';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../../src/app';
import { loadConfig } from '../../../src/load-config';
import { createLogger } from '../../../src/log';
import { ChannelAdapter } from '../../../src/pipeline/channel-adapter';
import type { Connector, PlanResult, StepProgress } from '../../../src/pipeline/connector';
import { runStep } from '../../../src/pipeline/connector';
import type { Platform } from '../../../src/platforms/platform';
import { platformSettings } from '../../../src/platforms/platform-settings';
import { z } from 'zod';
import { ConfigError } from '../../../src/errors';
import { defaultPlatforms } from '../../../adapters/platforms';
import { InvalidRequestError } from '../../../src/errors';
import { eventually } from '../../helpers/console-client';

/** The toy platform's own API: records what the bot sends. */
class ToyApi {
  readonly sent: Array<{ conversation: string; text: string; choices?: string[] }> = [];
  readonly handoffs: Array<{ conversation: string; note: string }> = [];
  private readonly server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const json = JSON.parse(body || '{}');
      if (req.url === '/send') this.sent.push(json);
      if (req.url === '/handoff') this.handoffs.push(json);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ id: String(this.sent.length) }));
    });
  });
  url = '';
  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

interface ToyConfig {
  apiUrl: string;
  secret: string;
}

async function call(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`toy API ${res.status}`);
}

class ToyConnector implements Connector {
  readonly platform = 'toy';
  readonly channelId = 'toy';
  readonly serviceUrl: string;
  readonly redeliverStatus = 503;
  readonly nativeChoices = { maxActions: 5, maxTitleLength: 30 };
  constructor(private readonly config: ToyConfig) {
    this.serviceUrl = config.apiUrl;
  }
  authenticate(input: Parameters<Connector['authenticate']>[0]): ReturnType<Connector['authenticate']> {
    return input.headers['x-toy-secret'] === this.config.secret ? {} : { refused: { status: 401, code: 'toy_not_supported', message: 'wrong secret' } };
  }
  plan(body: unknown): PlanResult {
    const b = body as { conversation: string; id: string; text: string };
    return {
      event: {
        conversationId: `toy:${b.conversation}`,
        dedupeKeys: [`toy:${b.id}`],
        ownership: [],
        activity: {
          type: ActivityTypes.Message,
          id: b.id,
          text: b.text,
          channelId: 'toy',
          serviceUrl: this.serviceUrl,
          conversation: { id: `toy:${b.conversation}`, isGroup: false, conversationType: 'toy', name: b.conversation },
          from: { id: `toy-user-${b.conversation}`, name: 'Ada', role: 'user' },
          recipient: { id: 'toy-bot', name: 'Bot', role: 'bot' },
          timestamp: new Date(),
        },
      },
    };
  }
  checkConversationId(id: string): void {
    if (!id.startsWith('toy:')) throw new InvalidRequestError('toy_conversation_missing', 'not a toy conversation');
  }
  async sendMessage(activity: Partial<Activity>): Promise<string> {
    await call(`${this.config.apiUrl}/send`, { conversation: activity.conversation!.id, text: activity.text, choices: activity.suggestedActions?.actions.map((a) => a.title) });
    return 'sent';
  }
  parseControl(value: unknown) {
    if (value && Object.keys(value).length > 0) throw new InvalidRequestError('toy_not_supported', 'the toy platform takes no controls');
    return {};
  }
  async handoff(conversationId: string, _request: unknown, note: string, progress: StepProgress) {
    await runStep(progress, 'handoff', () => call(`${this.config.apiUrl}/handoff`, { conversation: conversationId, note }));
    return { platformStatus: 'human', message: 'handed to a toy human' };
  }
  async control(): Promise<void> {}
}

const toyPlatform: Platform<ToyConfig> = {
  name: 'toy',
  title: 'Toy',
  routes: [{ method: 'POST', path: '/api/toy' }],
  redeliverStatus: 503,
  // Its variables (zod, checked with the core's), which of them switch it on, its secrets: read by loadConfig.
  settings: platformSettings({
    variables: z.object({ TOY_API_URL: z.url().optional(), TOY_SECRET: z.string().min(8, 'TOY_SECRET must be at least 8 characters').optional() }),
    enabledBy: ['TOY_API_URL', 'TOY_SECRET'],
    channel: true,
    build: (env) => ({ apiUrl: env.TOY_API_URL!, secret: env.TOY_SECRET! }),
    secrets: (env) => [env.TOY_SECRET],
  }),
  start(config, { adapterOptions }) {
    const adapter = new ChannelAdapter(new ToyConnector(config), adapterOptions);
    return { adapter, handlers: new Map([['POST /api/toy', (input) => adapter.handle(input)]]), secrets: [config.secret] };
  },
};

let app: App | undefined;
let api: ToyApi | undefined;
afterEach(async () => {
  await app?.stop();
  await api?.close();
  app = api = undefined;
});

describe('a platform added from outside the core', () => {
  it('serves its route with its own configuration: the example bot answers, hands off with the transcript, and a wrong secret is refused', async () => {
    api = new ToyApi();
    await api.start();
    const env = { PORT: '0', HOST: '127.0.0.1', STORAGE_URL: 'memory:', TOY_API_URL: api.url, TOY_SECRET: 'toy-secret-1' };
    const platforms = [...defaultPlatforms, toyPlatform];
    const config = loadConfig(env, 'serve', platforms);
    // A channel configured: no sandbox (no emulated Nimchat or WOZTELL beside it), and its secret is kept out of the logs.
    expect(config.sandbox).toBe(false);
    expect(config.secrets).toContain('toy-secret-1');
    app = new App(config, { platforms, logger: createLogger({ level: process.env.TOY_LOG ? 'debug' : 'silent' }), drainTimeoutMs: 1000 });
    await app.start();
    const post = (body: unknown, secret = 'toy-secret-1') => fetch(`${app!.url}/api/toy`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Toy-Secret': secret }, body: JSON.stringify(body) });

    expect((await post({ conversation: 'c1', id: 'm1', text: 'hello' }, 'wrong')).status).toBe(401);
    expect((await post({ conversation: 'c1', id: 'm1', text: 'hello' })).status).toBe(200);
    await eventually(async () => api!.sent.length > 0, 5000, 'the menu');
    expect(api.sent[0]).toEqual({ conversation: 'toy:c1', text: 'How can I help you today?', choices: ['Talk to a human', 'Leave a message'] });

    expect((await post({ conversation: 'c1', id: 'm2', text: 'I want a human' })).status).toBe(200);
    await eventually(async () => api!.handoffs.length > 0, 5000, 'the handoff');
    expect(api.handoffs[0]!.note).toContain('Customer: hello\nBot: How can I help you today? [Talk to a human | Leave a message]\nCustomer: I want a human');
    expect(api.sent.at(-1)!.text).toMatch(/human/);
    expect(await app.runtime.ownership.owner('toy', 'toy:c1')).toBe('human');
    // The platform's route is served next to the default ones, and the webhooks list names it.
    expect(Object.keys(app.webhooks)).toContain('toy');
    expect(await (await fetch(`${app.url}/metrics`)).text()).toMatch(/handoff_webhooks_received_total\{platform="toy"\} 3/);
    expect(app.emulated.size).toBe(0);
  });

  it('its variables are checked with the core\'s, every problem reported at once; half of them is an error naming the other', () => {
    const platforms = [...defaultPlatforms, toyPlatform];
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env, 'serve', platforms);
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ TOY_API_URL: 'not a url', TOY_SECRET: 'short', PORT: 'x' })).toEqual(expect.arrayContaining(['PORT must be a port number (0-65535)', 'TOY_SECRET must be at least 8 characters', expect.stringMatching(/^TOY_API_URL/)]));
    expect(problems({ TOY_API_URL: 'http://127.0.0.1:1' })).toEqual(['TOY_SECRET is required to enable Toy (TOY_API_URL is set)']);
  });

  it('an app given a platform its configuration was read without refuses to start, naming it', async () => {
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', STORAGE_URL: 'memory:', TOY_API_URL: 'http://127.0.0.1:1', TOY_SECRET: 'toy-secret-1' });
    app = new App(config, { platforms: [...defaultPlatforms, toyPlatform], logger: createLogger({ level: 'silent' }) });
    await expect(app.start()).rejects.toThrow(/read without the platform "toy"/);
  });
});
