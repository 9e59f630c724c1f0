/** WOZTELL's variables (`WOZTELL_*`) and the configuration they make. */
import { z } from 'zod';
import type { Config } from '../../src/config';
import { httpUrl, optionalText } from '../../src/env-values';
import { platformSettings } from '../../src/platforms/platform-settings';

export const WoztellVariables = z.object({
  WOZTELL_ACCESS_TOKEN: optionalText,
  WOZTELL_CHANNEL_SECRET: optionalText,
  WOZTELL_BOT_API_URL: httpUrl('WOZTELL_BOT_API_URL').transform((s) => s ?? 'https://bot.api.woztell.com'),
  WOZTELL_OPEN_API_URL: httpUrl('WOZTELL_OPEN_API_URL').transform((s) => s ?? 'https://open.api.woztell.com/v3'),
  WOZTELL_INBOX_API_URL: httpUrl('WOZTELL_INBOX_API_URL').transform((s) => s ?? 'https://api.inbox.woztell.sanuker.com/v1.0'),
  WOZTELL_APP_ID: optionalText,
  WOZTELL_APP_INTEGRATION_ID: optionalText,
  WOZTELL_INBOX_SIGNATURE: optionalText,
  WOZTELL_HANDOFF_FOLDER: optionalText.transform((s) => s ?? 'main'),
  WOZTELL_BOT_FOLDER: optionalText,
  WOZTELL_RESOLVED_FOLDER: optionalText,
  WOZTELL_HANDOFF_AGENT_ID: optionalText,
  WOZTELL_FALLBACK_FOLDER: optionalText,
});

export const woztellSettings = platformSettings({
  variables: WoztellVariables,
  enabledBy: ['WOZTELL_ACCESS_TOKEN', 'WOZTELL_CHANNEL_SECRET'],
  channel: true,
  build: (env) => ({
    accessToken: env.WOZTELL_ACCESS_TOKEN!,
    channelSecret: env.WOZTELL_CHANNEL_SECRET!,
    botApiUrl: env.WOZTELL_BOT_API_URL,
    openApiUrl: env.WOZTELL_OPEN_API_URL,
    inboxApiUrl: env.WOZTELL_INBOX_API_URL,
    appId: env.WOZTELL_APP_ID,
    appIntegrationId: env.WOZTELL_APP_INTEGRATION_ID,
    inboxSignature: env.WOZTELL_INBOX_SIGNATURE,
    handoffFolder: env.WOZTELL_HANDOFF_FOLDER,
    botFolder: env.WOZTELL_BOT_FOLDER,
    resolvedFolder: env.WOZTELL_RESOLVED_FOLDER,
    handoffAgentId: env.WOZTELL_HANDOFF_AGENT_ID,
    /** Where the no-answer ladder moves a thread nobody answered. */
    fallbackFolder: env.WOZTELL_FALLBACK_FOLDER,
  }),
  secrets: (env) => [env.WOZTELL_ACCESS_TOKEN, env.WOZTELL_CHANNEL_SECRET, env.WOZTELL_INBOX_SIGNATURE],
  // A tenant's webhooks are told from another tenant's by its own secret.
  tenantOwn: ['WOZTELL_CHANNEL_SECRET'],
});
export type WoztellConfig = ReturnType<typeof woztellSettings.build>;

/** WOZTELL's configuration in a loaded Config (undefined when it is not configured). */
export function woztellConfigOf(config: Config): WoztellConfig | undefined {
  return config.platforms.woztell as WoztellConfig | undefined;
}
