/** WOZTELL as the app composes it: its route, configuration, emulation and the adapter the bot talks on. */
import { woztellSettings, type WoztellConfig } from './config';
import type { Platform, RunningPlatform } from '../../src/platforms/platform';
import { WoztellSandbox } from '../../src/sandbox/woztell/woztell-sandbox';
import { WoztellAdapter, type WoztellAdapterOptions } from './woztell-adapter';
import type { HttpOptions } from './client';
import type { WoztellSandboxOptions } from '../../src/sandbox/woztell/woztell-sandbox';

/** WOZTELL's options in code (`AppOptions.platformOptions.woztell`). */
export interface WoztellPlatformOptions {
  /** Its clients' HTTP options (timeouts, retries, the clock). */
  http?: HttpOptions;
  /** Extra adapter options (reply buttons, live-chat check …). */
  adapter?: Partial<WoztellAdapterOptions>;
  /** The emulation's options (sandbox mode). */
  sandbox?: WoztellSandboxOptions;
}

export const woztellPlatform: Platform<WoztellConfig> = {
  name: 'woztell',
  title: 'WOZTELL',
  redeliverStatus: 503,
  routes: [{ method: 'POST', path: '/api/woztell' }],

  settings: woztellSettings,

  sandbox: {
    portOffset: 2,
    replacesConfigured: true,
    async start({ port, listen, options }) {
      const own = (options ?? {}) as WoztellPlatformOptions;
      const w = new WoztellSandbox({ ...own.sandbox, port: own.sandbox?.port ?? port });
      await listen('The sandbox WOZTELL', () => w.start());
      return {
        // The inbox credentials are left out on purpose: the adapter finds them through the Open API.
        env: {
          WOZTELL_ACCESS_TOKEN: w.accessToken,
          WOZTELL_CHANNEL_SECRET: w.channelSecret,
          WOZTELL_BOT_API_URL: w.botApiUrl,
          WOZTELL_OPEN_API_URL: w.openApiUrl,
          WOZTELL_INBOX_API_URL: w.inboxApiUrl,
          WOZTELL_HANDOFF_FOLDER: 'main',
          WOZTELL_BOT_FOLDER: 'bot',
          WOZTELL_RESOLVED_FOLDER: 'done',
          WOZTELL_HANDOFF_AGENT_ID: w.state.users[0]!.userId,
          WOZTELL_FALLBACK_FOLDER: 'urgent',
        },
        subscribe: async (url) => w.subscribe(`${url}/api/woztell`),
        close: () => w.close(),
        consoleLink: { baseUrl: w.baseUrl, folders: [...w.state.folders], channelId: w.channelId },
        emulation: w,
        banner: (url) => [
          ` WOZTELL bot endpoint: ${url}/api/woztell`,
          ` Sandbox WOZTELL:      ${w.baseUrl}   (folders main, bot, done; handoff → main, release ← bot)`,
          '',
          ' Chat as a WOZTELL member from another terminal:',
          `   npm run handoff -- sandbox chat --platform woztell --url ${w.baseUrl}`,
          ' Or with curl:',
          `   curl -s -X POST ${w.baseUrl}/sandbox/members -H 'Content-Type: application/json' -d '{"name":"Ada"}'`,
          `   curl -s -X POST ${w.baseUrl}/sandbox/members/<memberId>/messages -H 'Content-Type: application/json' -d '{"text":"hi"}'`,
          `   curl -s ${w.baseUrl}/sandbox/members/<memberId>/messages`,
          ' Play the Inbox agent (answer, then move the thread back to the bot folder):',
          `   curl -s -X POST ${w.baseUrl}/sandbox/members/<memberId>/agent-messages -H 'Content-Type: application/json' -d '{"text":"Hi, Anna here"}'`,
          `   curl -s -X POST ${w.baseUrl}/sandbox/members/<memberId>/thread -H 'Content-Type: application/json' -d '{"folder":"bot"}'`,
          `   curl -s ${w.baseUrl}/sandbox/members/<memberId>/thread   (folder, assignee, internal notes)`,
        ],
      };
    },
  },

  start(woztell, { adapterOptions, options }): RunningPlatform {
    const own = (options ?? {}) as WoztellPlatformOptions;
    const adapter = new WoztellAdapter({ ...woztell, http: own.http, ...own.adapter, ...adapterOptions });
    return {
      adapter,
      handlers: new Map([['POST /api/woztell', (input) => adapter.handle(input)]]),
      ticketCloseOut: woztell.resolvedFolder ? { folder: woztell.resolvedFolder } : undefined,
      secrets: [woztell.accessToken, woztell.channelSecret, woztell.inboxSignature].filter((s): s is string => typeof s === 'string'),
    };
  },
};
