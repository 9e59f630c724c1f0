/** What `serve` prints once the endpoint listens: where, and in sandbox mode how to play each side. */
import type { App } from '../app';

/** The one-line start message outside sandbox mode; `where` names the socket when another process holds it (the supervisor). */
export function endpointBanner(app: App, where = listening(app)): string {
  const routes = app.platforms
    .filter((platform) => app.running.has(platform.name))
    .map((platform) => `${platform.routes.map((r) => r.method).join('|')} ${platform.routes[0]!.path}`);
  const tenants = [...app.tenants.keys()];
  if (tenants.length > 0) {
    const names = tenants.length <= 3 ? tenants.join(', ') : `${tenants.slice(0, 3).join(', ')} …`;
    routes.push(`POST /t/<tenant>/api/<platform> for ${tenants.length} tenant${tenants.length === 1 ? '' : 's'} (${names})`);
  } else if (app.config.tenantsFile) routes.push(`POST /t/<tenant>/api/<platform> for the tenants added to ${app.config.tenantsFile.path} (none yet)`);
  return `Bot endpoint listening on ${where} (${[...routes, 'GET /healthz', '/readyz', '/metrics', ...(app.config.console.enabled ? ['/console'] : [])].join(', ')})\n`;
}

/** `0.0.0.0:3978 (all interfaces; from this machine http://127.0.0.1:3978)`, or the one URL it is bound to. */
export function listening(app: App): string {
  const bound = app.listenAddress;
  return bound.allInterfaces ? `${bound.address} (all interfaces; from this machine ${app.url})` : app.url;
}

/** The same for a socket bound at `host`:`port` by this process. */
export function describeAddress(host: string, port: number): string {
  const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);
  if (host === '0.0.0.0' || host === '::') return `${bracket(host)}:${port} (all interfaces; from this machine http://127.0.0.1:${port})`;
  return `http://${bracket(host)}:${port}`;
}

/** What sandbox mode prints once it listens: what is emulated, where, and how to play each side. */
export function sandboxBanner(app: App): string {
  const line = '='.repeat(78);
  const titleOf = (name: string) => app.platforms.find((p) => p.name === name)?.title ?? name;
  const emulated = [...app.emulated.keys()].map(titleOf);
  const real = [...app.running.keys()].filter((name) => !app.emulated.has(name)).map(titleOf);
  const list = (names: string[]) => (names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`);
  const sections = [...app.emulated.values()].flatMap((emulation) => [...emulation.banner(app.url), line]);
  return [
    line,
    ` SANDBOX MODE: no platform is configured, so ${list(emulated)} ${emulated.length === 1 ? 'is' : 'are'}`,
    ` EMULATED on this machine${real.length > 0 ? ` (${list(real)} ${real.length > 1 ? 'are the real ones' : 'is the real one'} you configured)` : ''}. Nothing here talks to a real inbox.`,
    ' To serve a real installation (docs/configuration.md), set NIMCHAT_BASE_URL and NIMCHAT_BOT_TOKEN,',
    ' or WOZTELL_ACCESS_TOKEN and WOZTELL_CHANNEL_SECRET; for tickets in a real Inbenta, also',
    " INBENTA_API_KEY and INBENTA_API_SECRET, and INBENTA_WEBHOOK_SECRET (agents' answers).",
    line,
    ` CONSOLE: open ${app.url}/console in a browser on this machine`,
    '   watch every conversation and handoff live, and play every role: the customer',
    '   (Nimchat, WOZTELL), the human agent and the Inbenta agent. The same with curl:',
    line,
    ` Listening on:      ${listening(app)}`,
    ` Bot:               ${app.botDescription}${app.botDescription.startsWith('the example') ? '   (EXAMPLE_BOT_SDK=botbuilder|agents-sdk)' : ''}`,
    ...sections,
    '',
  ].join('\n');
}
