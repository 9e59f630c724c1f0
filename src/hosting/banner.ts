/** What `serve` prints once the endpoint listens: where, and in sandbox mode how to play each side. */
import type { App } from '../app';

/** The one-line start message outside sandbox mode. */
export function endpointBanner(app: App): string {
  const routes = [app.nimchat ? 'POST /api/nimchat' : undefined, app.woztell ? 'POST /api/woztell' : undefined, app.inbenta ? 'GET|POST /api/inbenta' : undefined]
    .filter(Boolean)
    .join(', ');
  return `Bot endpoint listening on ${listening(app)} (${routes}, GET /healthz, /readyz, /metrics${app.config.console.enabled ? ', /console' : ''})\n`;
}

/** `0.0.0.0:3978 (all interfaces; from this machine http://127.0.0.1:3978)`, or the one URL it is bound to. */
export function listening(app: App): string {
  const bound = app.listenAddress;
  return bound.allInterfaces ? `${bound.address} (all interfaces; from this machine ${app.url})` : app.url;
}

/** What sandbox mode prints once it listens: what is emulated, where, and how to play each side. */
export function sandboxBanner(app: App): string {
  const s = app.sandbox!;
  const w = app.woztellSandbox!;
  const ib = app.inbentaSandbox;
  const base = s.baseUrl;
  const pub = `${base}/public/api/v1/inboxes/${s.inboxIdentifier}`;
  const line = '='.repeat(78);
  return [
    line,
    ` SANDBOX MODE: no platform is configured, so ${ib ? 'Nimchat, WOZTELL and Inbenta are' : 'Nimchat and WOZTELL are'}`,
    ` EMULATED on this machine${ib ? '' : ' (Inbenta is the real one you configured)'}. Nothing here talks to a real inbox.`,
    ' To serve a real installation (see README), set NIMCHAT_BASE_URL and NIMCHAT_BOT_TOKEN,',
    ' or WOZTELL_ACCESS_TOKEN and WOZTELL_CHANNEL_SECRET; for tickets in a real Inbenta, also',
    ' INBENTA_API_KEY and INBENTA_API_SECRET, and INBENTA_WEBHOOK_SECRET (agents\' answers).',
    line,
    ` CONSOLE: open ${app.url}/console in a browser on this machine`,
    '   watch every conversation and handoff live, and play every role: the customer',
    '   (Nimchat, WOZTELL), the human agent and the Inbenta agent. The same with curl:',
    line,
    ` Listening on:      ${listening(app)}`,
    ` Bot endpoint:      ${app.url}/api/nimchat   (health: ${app.url}/healthz)`,
    ` Sandbox Nimchat:   ${base}   (account 1, inbox 1, team 1 "Support")`,
    ` Agent token:       ${s.agentToken}   (admin: ${s.adminToken})`,
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
    `   curl -s -X POST ${base}/api/v1/accounts/1/conversations/<id>/messages -H 'api_access_token: ${s.agentToken}' -H 'Content-Type: application/json' -d '{"content":"Hi, Sam here"}'`,
    `   curl -s -X POST ${base}/api/v1/accounts/1/conversations/<id>/toggle_status -H 'api_access_token: ${s.agentToken}' -H 'Content-Type: application/json' -d '{"status":"pending"}'`,
    line,
    ` WOZTELL bot endpoint: ${app.url}/api/woztell`,
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
    line,
    ...(ib
      ? [
          ` Inbenta webhook:      ${app.url}/api/inbenta   (ticket and reply events registered)`,
          ` Sandbox Inbenta:      ${ib.authUrl}   ("leave a message" creates tickets here)`,
          ' Play the Inbenta agent (list tickets, answer one, close it); <id> is the reference the',
          ' customer was told (SANDBOX-00000001) or the ticket\'s numeric uuid:',
          `   curl -s ${ib.authUrl}/sandbox/tickets`,
          `   curl -s -X POST ${ib.authUrl}/sandbox/tickets/<id>/answer -H 'Content-Type: application/json' -d '{"text":"Hi, we are on it"}'`,
          `   curl -s -X POST ${ib.authUrl}/sandbox/tickets/<id>/close`,
          line,
        ]
      : []),
    '',
  ].join('\n');
}
