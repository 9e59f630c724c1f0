/** Inbenta's variables (`INBENTA_*`) and the configuration they make. */
import { z } from 'zod';
import type { Config } from '../../src/config';
import { bool, httpUrl, optionalText, positiveInt } from '../../src/env-values';
import { platformSettings } from '../../src/platforms/platform-settings';

export const InbentaVariables = z.object({
  INBENTA_API_KEY: optionalText,
  INBENTA_API_SECRET: optionalText,
  INBENTA_AUTH_URL: httpUrl('INBENTA_AUTH_URL').transform((s) => s ?? 'https://api.inbenta.io'),
  INBENTA_TICKET_QUEUE: positiveInt('INBENTA_TICKET_QUEUE').transform((n) => n ?? 1),
  INBENTA_TICKET_SOURCE: positiveInt('INBENTA_TICKET_SOURCE').transform((n) => n ?? 3),
  INBENTA_WEBHOOK_SECRET: optionalText,
  INBENTA_USER_PERSONAL_SECRET: optionalText,
  INBENTA_EXTERNAL_ID: bool('INBENTA_EXTERNAL_ID', true),
  INBENTA_TICKET_LANGUAGE: optionalText.refine((s) => s === undefined || /^[a-z]{2}(-[A-Za-z]{2})?$/.test(s), {
    message: 'INBENTA_TICKET_LANGUAGE must be a language code such as en or en-GB',
  }),
});

export const inbentaSettings = platformSettings({
  variables: InbentaVariables,
  enabledBy: ['INBENTA_API_KEY', 'INBENTA_API_SECRET'],
  // Tickets, not a chat: the bot talks with customers on the channels.
  channel: false,
  build: (env) => ({
    apiKey: env.INBENTA_API_KEY!,
    apiSecret: env.INBENTA_API_SECRET!,
    authUrl: env.INBENTA_AUTH_URL.replace(/\/+$/, ''),
    ticketQueue: env.INBENTA_TICKET_QUEUE,
    ticketSource: env.INBENTA_TICKET_SOURCE,
    webhookSecret: env.INBENTA_WEBHOOK_SECRET,
    userPersonalSecret: env.INBENTA_USER_PERSONAL_SECRET,
    /** Send our escalation id as the ticket's `external_id` (a retry finds the ticket). */
    externalId: env.INBENTA_EXTERNAL_ID,
    language: env.INBENTA_TICKET_LANGUAGE,
  }),
  secrets: (env) => [env.INBENTA_API_KEY, env.INBENTA_API_SECRET, env.INBENTA_WEBHOOK_SECRET, env.INBENTA_USER_PERSONAL_SECRET],
  // A tenant's ticket events are told from another's by its own secret.
  tenantProblems: (env) => (env.INBENTA_WEBHOOK_SECRET ? [] : ["INBENTA_WEBHOOK_SECRET is required: a tenant's ticket events are authenticated with its own secret"]),
  tenantOwn: ['INBENTA_WEBHOOK_SECRET'],
});
export type InbentaConfig = ReturnType<typeof inbentaSettings.build>;

/** Inbenta's configuration in a loaded Config (undefined when it is not configured). */
export function inbentaConfigOf(config: Config): InbentaConfig | undefined {
  return config.platforms.inbenta as InbentaConfig | undefined;
}
