/** A sandbox Inbenta next to a harness: its environment, webhook registration, and a joint settle. */
import type { App } from '../../src/app';
import { InbentaSandbox, type InbentaSandboxOptions } from '../../src/sandbox/inbenta/inbenta-sandbox';
import { registerTicketWebhooks } from '../../adapters/inbenta/register';
import { settle, type DeliveringSandbox } from './settle';

export async function startInbenta(options: InbentaSandboxOptions = {}) {
  const inbenta = new InbentaSandbox({ batchWindowMs: 10, deliveryRetryDelayMs: 10, ...options });
  await inbenta.start();
  const env = {
    INBENTA_API_KEY: inbenta.apiKey,
    INBENTA_API_SECRET: inbenta.apiSecret,
    INBENTA_AUTH_URL: inbenta.authUrl,
    INBENTA_WEBHOOK_SECRET: inbenta.webhookSecret,
  };
  return {
    inbenta,
    env,
    /** Registers the app's /api/inbenta for ticket and reply events (the challenge included). */
    connect: (app: App) => registerTicketWebhooks(app.inbenta!.client, `${app.url}/api/inbenta`, inbenta.webhookSecret),
    /** Settles the chat platform, Inbenta's deliveries and the app's queue together. */
    settle: (platform: DeliveringSandbox, app: App) =>
      settle(
        {
          idle: async () => {
            await platform.idle();
            await inbenta.idle();
          },
          deliveries: {
            get pending() {
              return platform.deliveries.pending + inbenta.deliveries.pending;
            },
          },
        },
        app.queue,
        app.runtime.delivery,
      ),
  };
}

/** `Guest: text <small>(time)</small>` checks: the history item's text without its time. */
export function historyText(message: string): string {
  return message.replace(/ <small>\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\)<\/small>$/, '');
}
