/**
 * Inbenta tickets as the app composes them: the ticket desk the ticket dialog opens tickets at, and
 * the route of ticket events (an agent's answer, a closed ticket) back into the conversations.
 */
import { inbentaSettings, type InbentaConfig } from './config';
import type { Platform, RunningPlatform } from '../../src/platforms/platform';
import { InbentaSandbox, type InbentaSandboxOptions } from '../../src/sandbox/inbenta/inbenta-sandbox';
import type { HttpOptions } from './auth';
import { InbentaAuth } from './auth';
import { InbentaTicketingClient } from './client';
import { registerTicketWebhooks } from './register';
import { InbentaTicketDesk } from './ticket-desk';
import { InbentaTicketEvents } from './ticket-events';
import { TicketLinks } from './ticket-links';
import type { WebhookHandler } from '../../src/http/frameworks';
import { platformKey, tenantOf } from '../../src/tenants/tenant-scope';

/** The Inbenta integration's parts. */
export interface InbentaIntegration {
  auth: InbentaAuth;
  client: InbentaTicketingClient;
  desk: InbentaTicketDesk;
  events: InbentaTicketEvents;
}

/** Inbenta's options in code (`AppOptions.platformOptions.inbenta`). */
export interface InbentaPlatformOptions {
  /** Its clients' HTTP options (timeouts, retries, the clock). */
  http?: HttpOptions;
  /** The emulation's options (sandbox mode). */
  sandbox?: InbentaSandboxOptions;
}

export const inbentaPlatform: Platform<InbentaConfig> = {
  name: 'inbenta',
  title: 'Inbenta',
  redeliverStatus: 503,
  routes: [
    { method: 'GET', path: '/api/inbenta' },
    { method: 'POST', path: '/api/inbenta' },
  ],

  settings: inbentaSettings,

  sandbox: {
    portOffset: 3,
    // A configured Inbenta stays the real one, next to the emulated channels.
    replacesConfigured: false,
    async start({ port, listen, options }) {
      const own = (options ?? {}) as InbentaPlatformOptions;
      const ib = new InbentaSandbox({ ...own.sandbox, port: own.sandbox?.port ?? port });
      await listen('The sandbox Inbenta', () => ib.start());
      return {
        env: { INBENTA_API_KEY: ib.apiKey, INBENTA_API_SECRET: ib.apiSecret, INBENTA_AUTH_URL: ib.authUrl, INBENTA_WEBHOOK_SECRET: ib.webhookSecret, INBENTA_EXTERNAL_ID: 'true' },
        subscribe: async (url) => {
          // Inbenta checks the URL with its challenge before it registers a webhook.
          const client = new InbentaTicketingClient(new InbentaAuth({ authUrl: ib.authUrl, apiKey: ib.apiKey, apiSecret: ib.apiSecret, http: { retry: { maxAttempts: 1 } } }), ib.apiKey, { retry: { maxAttempts: 1 } });
          await registerTicketWebhooks(client, `${url}/api/inbenta`, ib.webhookSecret);
        },
        close: () => ib.close(),
        consoleLink: { baseUrl: ib.authUrl },
        emulation: ib,
        banner: (url) => [
          ` Inbenta webhook:      ${url}/api/inbenta   (ticket and reply events registered)`,
          ` Sandbox Inbenta:      ${ib.authUrl}   ("leave a message" creates tickets here)`,
          ' Play the Inbenta agent (list tickets, answer one, close it); <id> is the reference the',
          " customer was told (SANDBOX-00000001) or the ticket's numeric uuid:",
          `   curl -s ${ib.authUrl}/sandbox/tickets`,
          `   curl -s -X POST ${ib.authUrl}/sandbox/tickets/<id>/answer -H 'Content-Type: application/json' -d '{"text":"Hi, we are on it"}'`,
          `   curl -s -X POST ${ib.authUrl}/sandbox/tickets/<id>/close`,
        ],
      };
    },
  },

  start(inbenta, { runtime, metrics, logger, options, channels, tenant }): RunningPlatform {
    const own = (options ?? {}) as InbentaPlatformOptions;
    const auth = new InbentaAuth({
      authUrl: inbenta.authUrl,
      apiKey: inbenta.apiKey,
      apiSecret: inbenta.apiSecret,
      userPersonalSecret: inbenta.userPersonalSecret,
      http: { metrics, logger, tenant, ...own.http },
    });
    // Ticket calls happen while the customer waits: a short retry budget, then the dialog offers a retry or a human.
    const client = new InbentaTicketingClient(auth, inbenta.apiKey, { metrics, logger, tenant, timeoutMs: 10_000, retry: { maxTotalMs: 8000 }, ...own.http });
    // A tenant's project numbers its tickets on its own: its links are kept apart.
    const links = new TicketLinks(runtime.storage, platformKey('inbenta', tenant));
    const { ownership } = runtime;
    const desk = new InbentaTicketDesk({ client, desk: platformKey('inbenta', tenant), links, ownership, queue: inbenta.ticketQueue, source: inbenta.ticketSource, externalId: inbenta.externalId, language: inbenta.language, logger });
    const events = new InbentaTicketEvents({
      client,
      links,
      webhookSecret: inbenta.webhookSecret,
      tenant,
      runtime,
      adapterFor: (channelId, conversationId) => channels().find((a) => a.channelId === channelId && a.tenant === tenantOf(conversationId)),
    });
    if (!inbenta.webhookSecret) logger.warn('INBENTA_WEBHOOK_SECRET is not set: ticket events (agent answers, closed tickets) will be refused');
    const challenge: WebhookHandler = async (input) => events.answerChallenge(input);
    const parts: InbentaIntegration = { auth, client, desk, events };
    return {
      handlers: new Map<string, WebhookHandler>([
        ['GET /api/inbenta', challenge],
        ['POST /api/inbenta', (input) => events.handle(input)],
      ]),
      ticketDesk: desk,
      forwardToTicket: (context) => events.forwardCustomerMessage(context),
      secrets: [inbenta.apiKey, inbenta.apiSecret, inbenta.webhookSecret, inbenta.userPersonalSecret].filter((s): s is string => typeof s === 'string'),
      parts,
    };
  },
};
