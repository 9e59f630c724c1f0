/** Nimchat as the app composes it: its route, configuration, emulation and the adapter the bot talks on. */
import { nimchatSettings, type NimchatConfig } from './config';
import type { Platform, RunningPlatform } from '../../src/platforms/platform';
import type { HttpOptions } from './client';
import type { NimchatSandboxOptions } from '../../src/sandbox/nimchat/nimchat-sandbox';
import { NimchatSandbox } from '../../src/sandbox/nimchat/nimchat-sandbox';
import { NimchatAdminClient } from './client';
import { NimchatAdapter } from './nimchat-adapter';
import { NimchatAvailability } from './nimchat-availability';
import { NimchatQueuePosition } from './nimchat-queue-position';
import { registerAgentBot } from './register';
import { NimchatReclaimer } from './reclaim';
import { NimchatUserClient } from './user-client';

const RECLAIM_EVERY_MS = 60_000;

/** Nimchat's options in code (`AppOptions.platformOptions.nimchat`). */
export interface NimchatPlatformOptions {
  /** Its clients' HTTP options (timeouts, retries, the clock). */
  http?: HttpOptions;
  /** The emulation's options (sandbox mode). */
  sandbox?: NimchatSandboxOptions;
}

export const nimchatPlatform: Platform<NimchatConfig> = {
  name: 'nimchat',
  title: 'Nimchat',
  // Nimchat delivers again on 429 and 500 only (three attempts, 3 s apart).
  redeliverStatus: 500,
  routes: [{ method: 'POST', path: '/api/nimchat' }],

  settings: nimchatSettings,

  sandbox: {
    portOffset: 1,
    replacesConfigured: true,
    async start({ port, listen, options }) {
      const own = (options ?? {}) as NimchatPlatformOptions;
      const sandbox = new NimchatSandbox({ ...own.sandbox, port: own.sandbox?.port ?? port });
      await listen('The sandbox Nimchat', () => sandbox.start());
      const admin = new NimchatAdminClient(sandbox.baseUrl, sandbox.adminToken);
      // Registered as `handoff nimchat register` does it; its outgoing URL is set once the endpoint listens.
      const registered = await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Sandbox support bot', outgoingUrl: 'http://127.0.0.1:9/not-listening-yet' });
      const base = sandbox.baseUrl;
      const pub = `${base}/public/api/v1/inboxes/${sandbox.inboxIdentifier}`;
      return {
        env: {
          NIMCHAT_BASE_URL: base,
          NIMCHAT_BOT_TOKEN: registered.accessToken!,
          NIMCHAT_WEBHOOK_SECRET: registered.secret!,
          NIMCHAT_API_TOKEN: sandbox.agentToken,
          NIMCHAT_INBOX_ID: '1',
          NIMCHAT_HANDOFF_TEAM_ID: '1',
        },
        subscribe: async (url) => {
          await registerAgentBot(admin, { accountId: 1, inboxId: 1, name: 'Sandbox support bot', outgoingUrl: `${url}/api/nimchat` });
        },
        close: () => sandbox.close(),
        consoleLink: { baseUrl: base, inboxIdentifier: sandbox.inboxIdentifier, agentToken: sandbox.agentToken, accountId: 1 },
        emulation: sandbox,
        banner: (url) => [
          ` Bot endpoint:      ${url}/api/nimchat   (health: ${new URL(url).origin}/healthz)`,
          ` Sandbox Nimchat:   ${base}   (account 1, inbox 1, team 1 "Support")`,
          ` Agent token:       ${sandbox.agentToken}   (admin: ${sandbox.adminToken})`,
          '',
          ' Chat as the customer from another terminal:',
          `   npm run handoff -- sandbox chat --url ${base}`,
          '',
          ' Or with curl (public client API):',
          `   curl -s -X POST ${pub}/contacts -H 'Content-Type: application/json' -d '{"name":"Ada"}'`,
          `   curl -s -X POST ${pub}/contacts/<source_id>/conversations`,
          `   curl -s -X POST ${pub}/contacts/<source_id>/conversations/<id>/messages -H 'Content-Type: application/json' -d '{"content":"hi"}'`,
          `   curl -s ${pub}/contacts/<source_id>/conversations/<id>/messages`,
          ' Play the human agent (application API, user token):',
          `   curl -s -X POST ${base}/api/v1/accounts/1/conversations/<id>/messages -H 'api_access_token: ${sandbox.agentToken}' -H 'Content-Type: application/json' -d '{"content":"Hi, Sam here"}'`,
          `   curl -s -X POST ${base}/api/v1/accounts/1/conversations/<id>/toggle_status -H 'api_access_token: ${sandbox.agentToken}' -H 'Content-Type: application/json' -d '{"status":"pending"}'`,
        ],
      };
    },
  },

  start(nimchat, { config, metrics, logger, clock, adapterOptions, options, tenant }): RunningPlatform {
    const own = (options ?? {}) as NimchatPlatformOptions;
    // Asked while the customer waits for an answer: short, and a failure only means "not known".
    const users = nimchat.apiToken
      ? new NimchatUserClient(nimchat.baseUrl, nimchat.apiToken, { metrics, logger, clock, tenant, timeoutMs: 3000, retry: { maxAttempts: 2, maxTotalMs: 3000 }, ...own.http })
      : undefined;
    const adapter = new NimchatAdapter({
      messageReader: users,
      baseUrl: nimchat.baseUrl,
      botToken: nimchat.botToken,
      webhookSecret: nimchat.webhookSecret,
      urlTokenSecret: nimchat.urlTokenSecret,
      botStatuses: nimchat.botStatuses,
      handoffTeamId: nimchat.handoffTeamId,
      handoffAgentId: nimchat.handoffAgentId,
      fallbackTeamId: nimchat.fallbackTeamId,
      http: own.http,
      // A tenant is one account: a webhook naming another is refused.
      onlyAccountId: tenant ? nimchat.accountId : undefined,
      ...adapterOptions,
    });
    const running: RunningPlatform = {
      adapter,
      handlers: new Map([['POST /api/nimchat', (input) => adapter.handle(input)]]),
      ticketCloseOut: nimchat.resolveOnTicket ? { status: 'resolved' } : undefined,
      secrets: [nimchat.botToken, nimchat.webhookSecret, nimchat.urlTokenSecret, nimchat.apiToken].filter((s): s is string => typeof s === 'string'),
    };
    if (users) {
      const client = users;
      const common = { client, handoffTeamId: nimchat.handoffTeamId, logger };
      const policy = config.handoff;
      running.availability = new NimchatAvailability({ ...common, configured: policy.schedule, holidays: policy.holidays, inboxId: nimchat.inboxId, clock });
      running.queuePosition = new NimchatQueuePosition(common);
      if (nimchat.reclaim !== 'off') {
        const reclaimer = new NimchatReclaimer({
          policy: nimchat.reclaim,
          accountId: nimchat.accountId ?? 1,
          users: client,
          bot: adapter.client,
          connector: adapter.connector,
          pipeline: adapter.pipeline,
          dedupe: adapter.runtime.stores.dedupe,
          transcripts: adapter.runtime.transcripts,
          clock,
          logger,
          tenant,
        });
        running.parts = { reclaimer };
        let timer: NodeJS.Timeout | undefined;
        const scan = () => void reclaimer.scan().catch((error: unknown) => logger.warn('could not look for conversations Nimchat gave away', { error }));
        let stopped = false;
        running.started = () => {
          if (stopped) return;
          // Once the endpoint is back (this start, after what was left is queued), then every minute (a network cut the process lived through).
          scan();
          timer = setInterval(scan, RECLAIM_EVERY_MS);
          timer.unref();
        };
        running.stop = async () => {
          stopped = true;
          if (timer) clearInterval(timer);
          await reclaimer.stop();
        };
      }
    } else if (nimchat.reclaim !== 'off') {
      logger.info('conversations Nimchat gives to humans while the bot is unreachable are not reclaimed: that needs NIMCHAT_API_TOKEN');
    }
    return running;
  },
};
