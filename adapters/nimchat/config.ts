/** Nimchat's variables (`NIMCHAT_*`) and the configuration they make. */
import { z } from 'zod';
import type { Config } from '../../src/config';
import { bool, httpUrl, optionalText, positiveInt } from '../../src/env-values';
import { platformSettings } from '../../src/platforms/platform-settings';

export const NIMCHAT_STATUSES = ['open', 'resolved', 'pending', 'snoozed'] as const;
export type NimchatStatus = (typeof NIMCHAT_STATUSES)[number];

export const NimchatVariables = z.object({
  NIMCHAT_BASE_URL: httpUrl('NIMCHAT_BASE_URL'),
  NIMCHAT_BOT_TOKEN: optionalText,
  NIMCHAT_WEBHOOK_SECRET: optionalText,
  NIMCHAT_URL_TOKEN_SECRET: optionalText.refine((s) => s === undefined || s.length >= 16, {
    message: 'NIMCHAT_URL_TOKEN_SECRET must be at least 16 characters',
  }),
  NIMCHAT_BOT_STATUSES: optionalText
    .transform((s) => (s ?? 'pending').split(',').map((x) => x.trim()).filter(Boolean))
    .refine((list) => list.length > 0 && list.every((x) => (NIMCHAT_STATUSES as readonly string[]).includes(x)), {
      message: `NIMCHAT_BOT_STATUSES must be a comma-separated list of ${NIMCHAT_STATUSES.join(', ')}`,
    })
    .transform((list) => list as NimchatStatus[]),
  NIMCHAT_HANDOFF_TEAM_ID: positiveInt('NIMCHAT_HANDOFF_TEAM_ID'),
  NIMCHAT_HANDOFF_AGENT_ID: positiveInt('NIMCHAT_HANDOFF_AGENT_ID'),
  NIMCHAT_RESOLVE_ON_TICKET: bool('NIMCHAT_RESOLVE_ON_TICKET', true),
  NIMCHAT_ADMIN_TOKEN: optionalText,
  NIMCHAT_API_TOKEN: optionalText,
  NIMCHAT_RECLAIM: optionalText
    .refine((s) => s === undefined || ['bot', 'humans', 'off'].includes(s), { message: 'NIMCHAT_RECLAIM must be bot, humans or off' })
    .transform((s) => (s ?? 'bot') as 'bot' | 'humans' | 'off'),
  NIMCHAT_FALLBACK_TEAM_ID: positiveInt('NIMCHAT_FALLBACK_TEAM_ID'),
  NIMCHAT_ACCOUNT_ID: positiveInt('NIMCHAT_ACCOUNT_ID'),
  NIMCHAT_INBOX_ID: positiveInt('NIMCHAT_INBOX_ID'),
});
export type NimchatVariables = z.output<typeof NimchatVariables>;

export const nimchatSettings = platformSettings({
  variables: NimchatVariables,
  enabledBy: ['NIMCHAT_BASE_URL', 'NIMCHAT_BOT_TOKEN'],
  channel: true,
  build: (env) => ({
    baseUrl: env.NIMCHAT_BASE_URL!.replace(/\/+$/, ''),
    botToken: env.NIMCHAT_BOT_TOKEN!,
    webhookSecret: env.NIMCHAT_WEBHOOK_SECRET,
    urlTokenSecret: env.NIMCHAT_URL_TOKEN_SECRET,
    botStatuses: env.NIMCHAT_BOT_STATUSES,
    handoffTeamId: env.NIMCHAT_HANDOFF_TEAM_ID,
    handoffAgentId: env.NIMCHAT_HANDOFF_AGENT_ID,
    resolveOnTicket: env.NIMCHAT_RESOLVE_ON_TICKET,
    adminToken: env.NIMCHAT_ADMIN_TOKEN,
    accountId: env.NIMCHAT_ACCOUNT_ID,
    inboxId: env.NIMCHAT_INBOX_ID,
    /** A user or administrator token: business hours, agents' availability and the queue (the bot token cannot read them). */
    apiToken: env.NIMCHAT_API_TOKEN,
    /** What to do with a conversation Nimchat gave to humans because it could not reach the bot (needs `apiToken`). */
    reclaim: env.NIMCHAT_RECLAIM,
    /** Where the no-answer ladder re-assigns a conversation (else it unassigns it so auto-assignment tries again). */
    fallbackTeamId: env.NIMCHAT_FALLBACK_TEAM_ID,
  }),
  secrets: (env) => [env.NIMCHAT_BOT_TOKEN, env.NIMCHAT_WEBHOOK_SECRET, env.NIMCHAT_URL_TOKEN_SECRET, env.NIMCHAT_ADMIN_TOKEN, env.NIMCHAT_API_TOKEN],
  // A tenant is one account, and its webhooks are told from another tenant's by its own secret.
  tenantProblems: (env) => [
    ...(env.NIMCHAT_ACCOUNT_ID === undefined ? ['NIMCHAT_ACCOUNT_ID is required: the one account whose webhooks the tenant takes'] : []),
    ...(!env.NIMCHAT_WEBHOOK_SECRET && !env.NIMCHAT_URL_TOKEN_SECRET ? ['NIMCHAT_WEBHOOK_SECRET (or NIMCHAT_URL_TOKEN_SECRET) is required: a tenant\'s webhooks are authenticated with its own secret'] : []),
  ],
  tenantOwn: ['NIMCHAT_WEBHOOK_SECRET', 'NIMCHAT_URL_TOKEN_SECRET'],
});
export type NimchatConfig = ReturnType<typeof nimchatSettings.build>;

/** Nimchat's configuration in a loaded Config (undefined when it is not configured). */
export function nimchatConfigOf(config: Config): NimchatConfig | undefined {
  return config.platforms.nimchat as NimchatConfig | undefined;
}

/** Nimchat's variables as parsed, configured or not (the CLI's register and doctor work with part of them). */
export function nimchatVariablesOf(config: Config): NimchatVariables {
  return (config.variables.nimchat ?? NimchatVariables.parse({})) as NimchatVariables;
}
