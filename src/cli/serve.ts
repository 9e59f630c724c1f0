/** `handoff serve` (what `npm start` runs): the endpoint with the example support bot. */
import { App } from '../app';
import { loadConfig } from '../config';

export async function serve(): Promise<number> {
  const config = loadConfig(process.env, 'serve');
  const app = new App(config);
  await app.start();
  if (config.sandbox) printSandboxBanner(app);
  else {
    const routes = [app.nimchat ? 'POST /api/nimchat' : undefined, app.woztell ? 'POST /api/woztell' : undefined, app.inbenta ? 'GET|POST /api/inbenta' : undefined]
      .filter(Boolean)
      .join(', ');
    process.stdout.write(`Bot endpoint listening on ${app.url} (${routes}, GET /healthz, /readyz, /metrics${config.console.enabled ? ', /console' : ''})\n`);
  }

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      app.logger.info('shutting down', { signal });
      void app.stop().then(resolve, (error: unknown) => {
        app.logger.error('shutdown failed', { error });
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

function printSandboxBanner(app: App): void {
  const s = app.sandbox!;
  const w = app.woztellSandbox!;
  const ib = app.inbentaSandbox;
  const base = s.baseUrl;
  const pub = `${base}/public/api/v1/inboxes/${s.inboxIdentifier}`;
  const line = '='.repeat(78);
  process.stdout.write(
    [
      line,
      ' SANDBOX MODE: no platform is configured, so Nimchat, WOZTELL and Inbenta are',
      ' EMULATED on this machine. Nothing here talks to a real inbox. Set NIMCHAT_BASE_URL and',
      ' NIMCHAT_BOT_TOKEN, or WOZTELL_ACCESS_TOKEN and WOZTELL_CHANNEL_SECRET (see README),',
      ' to serve a real installation.',
      line,
      ` CONSOLE: open ${app.url}/console in a browser on this machine`,
      '   watch every conversation and handoff live, and play every role: the customer',
      '   (Nimchat, WOZTELL), the human agent and the Inbenta agent. The curl lines for',
      '   the same roles are in the README (Sandbox).',
      line,
      ` Bot endpoint:      ${app.url}/api/nimchat   (health: ${app.url}/healthz)`,
      ` Sandbox Nimchat:   ${base}   (account 1, inbox 1, team 1 "Support")`,
      ` Agent token:       ${s.agentToken}   (admin: ${s.adminToken})`,
      '',
      ' Chat as the customer from another terminal:',
      `   npm run handoff -- sandbox chat --url ${base}`,
      ` Public client API:    ${pub}`,
      line,
      ` WOZTELL bot endpoint: ${app.url}/api/woztell`,
      ` Sandbox WOZTELL:      ${w.baseUrl}   (folders main, bot, done; handoff → main, release ← bot)`,
      '',
      ' Chat as a WOZTELL member from another terminal:',
      `   npm run handoff -- sandbox chat --platform woztell --url ${w.baseUrl}`,
      line,
      ...(ib
        ? [
            ` Inbenta webhook:      ${app.url}/api/inbenta   (ticket and reply events registered)`,
            ` Sandbox Inbenta:      ${ib.authUrl}   ("leave a message" creates tickets here)`,
            line,
          ]
        : []),
      '',
    ].join('\n'),
  );
}
