/** The console of a running App: its stores, delivery and metrics, its intakes (for retried events) and, in sandbox mode, its emulated platforms. */
import type { App } from '../app';
import { mountConsole, type ConsoleDeps, type MountedConsole } from './console-routes';
import type { SandboxLinks } from './sandbox-play';

export type AppConsoleOptions = Pick<ConsoleDeps, 'now' | 'sampleEveryMs' | 'livePollMs'>;

/** `secrets`: the credentials the app runs with (configured or the sandbox platforms'), never shown; kept as given (the app adds a tenant's when it starts one). */
export function mountAppConsole(app: App, secrets: string[], options: AppConsoleOptions = {}): MountedConsole {
  return mountConsole(app.server, {
    config: app.config.console,
    sandbox: app.config.sandbox,
    stores: app.stores,
    delivery: app.runtime.delivery,
    metrics: app.metrics,
    logger: app.logger,
    secrets,
    requeue: (event) => app.runtime.scheduler.requeue(event),
    tenantTokens: app.config.tenantsFile ? () => app.tenantConsoleTokens() : undefined,
    sandboxes: app.config.sandbox ? sandboxLinks(app) : undefined,
    ...options,
  });
}

/** Each emulation's link for the console's "play" views, by platform name. */
function sandboxLinks(app: App): SandboxLinks {
  const links: Record<string, unknown> = {};
  for (const [name, emulation] of app.emulated) if (emulation.consoleLink !== undefined) links[name] = emulation.consoleLink;
  return links as SandboxLinks;
}
