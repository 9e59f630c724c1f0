/** A sandbox WOZTELL and the app under test, both on loopback, plus customer/agent helpers. */
import { App, type AppOptions } from '../../src/app';
import { loadConfig } from '../../src/load-config';
import { createLogger } from '../../src/log';
import { WoztellSandbox, type WoztellSandboxOptions } from '../../src/sandbox/woztell/woztell-sandbox';
import { recordingSupportBot, type Face, type RecordingBot, type RecordingSupportBot } from './faces';
import { settle } from './settle';

export interface WoztellHarnessOptions {
  env?: Record<string, string>;
  sandbox?: WoztellSandboxOptions;
  app?: AppOptions;
  /** Give the inbox credentials in the environment (default) or let the adapter look them up. */
  inboxCredentials?: boolean;
  /** The SDK the example bot is served through (default botbuilder). */
  face?: Face;
}

export async function startWoztellHarness(options: WoztellHarnessOptions = {}) {
  const sandbox = new WoztellSandbox({ deliveryRetryDelayMs: 10, deliveryTimeoutMs: 2000, ...options.sandbox });
  await sandbox.start();
  const logLines: string[] = [];
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    STORAGE_URL: 'memory:',
    WOZTELL_ACCESS_TOKEN: sandbox.accessToken,
    WOZTELL_CHANNEL_SECRET: sandbox.channelSecret,
    WOZTELL_BOT_API_URL: sandbox.botApiUrl,
    WOZTELL_OPEN_API_URL: sandbox.openApiUrl,
    WOZTELL_INBOX_API_URL: sandbox.inboxApiUrl,
    WOZTELL_BOT_FOLDER: 'bot',
    ...(options.inboxCredentials === false
      ? {}
      : { WOZTELL_APP_ID: sandbox.appId, WOZTELL_APP_INTEGRATION_ID: sandbox.appIntegrationId, WOZTELL_INBOX_SIGNATURE: sandbox.inboxSignature }),
    ...options.env,
  });
  let bot: RecordingBot | undefined;
  const app = new App(config, {
    logger: createLogger({ level: 'debug', secrets: config.secrets, write: (line) => logLines.push(line) }),
    createBot: (deps) => (bot = recordingSupportBot(options.face ?? 'botbuilder', deps)),
    drainTimeoutMs: 2000,
    
    ...options.app,
  });
  await app.start();
  const webhookUrl = `${app.url}/api/woztell`;
  sandbox.subscribe(webhookUrl);

  return {
    sandbox,
    app,
    logLines,
    webhookUrl,
    /** The example bot under test (on the agents-sdk face a RecordingAgentsSupportBot: only `seen` is the same). */
    get bot(): RecordingSupportBot {
      return bot as RecordingSupportBot;
    },
    get adapter() {
      return app.woztell!;
    },
    /** Waits until no webhook is in flight and no turn is queued, three times in a row. */
    settle: (): Promise<void> => settle(sandbox, app.queue, app.runtime.delivery),
    /** What the member saw (bot and agent messages), as text. */
    received(memberId: string): string[] {
      return sandbox.received(memberId).map((m) => m.text ?? JSON.stringify(m.item));
    },
    /** Bot API and Inbox API calls, as "api METHOD path". */
    platformCalls(): string[] {
      return sandbox.calls.filter((c) => c.api !== 'open').map((c) => `${c.api} ${c.method} ${c.path}`);
    },
    async close(): Promise<void> {
      await app.stop();
      await sandbox.close();
    },
  };
}

export type WoztellHarness = Awaited<ReturnType<typeof startWoztellHarness>>;
