/** The console of a running App: its stores, delivery and metrics, its intakes (for retried events) and, in sandbox mode, its emulated platforms. */
import type { App } from '../app';
import type { InboxEvent } from '../storage/event-inbox';
import { mountConsole, type ConsoleDeps, type MountedConsole } from './console-routes';
import type { SandboxLinks } from './sandbox-play';

export type AppConsoleOptions = Pick<ConsoleDeps, 'now' | 'sampleEveryMs' | 'livePollMs'>;

/** `secrets`: the credentials the app runs with (configured or the sandbox platforms'), never shown. */
export function mountAppConsole(app: App, secrets: string[], options: AppConsoleOptions = {}): MountedConsole {
  return mountConsole(app.server, {
    config: app.config.console,
    sandbox: app.config.sandbox,
    stores: app.stores,
    delivery: app.runtime.delivery,
    metrics: app.metrics,
    logger: app.logger,
    secrets: [...new Set([...app.config.secrets, ...secrets].filter((s) => s.length >= 6))],
    requeue: (event) => requeue(app, event),
    sandboxes: app.config.sandbox ? sandboxLinks(app) : undefined,
    ...options,
  });
}

function requeue(app: App, event: InboxEvent): boolean {
  if (app.runtime.runner) {
    // Replicas: whoever holds the conversation's lease runs it.
    app.runtime.runner.wake(event.conversationId);
    return true;
  }
  const adapter = [app.nimchat, app.woztell].find((a) => a?.pipeline.platform === event.platform);
  if (adapter) {
    adapter.pipeline.requeue(event);
    return true;
  }
  if (event.platform === 'inbenta' && app.inbenta) {
    app.inbenta.events.requeue(event);
    return true;
  }
  return false;
}

function sandboxLinks(app: App): SandboxLinks {
  return {
    ...(app.sandbox ? { nimchat: { baseUrl: app.sandbox.baseUrl, inboxIdentifier: app.sandbox.inboxIdentifier, agentToken: app.sandbox.agentToken, accountId: 1 } } : {}),
    ...(app.woztellSandbox ? { woztell: { baseUrl: app.woztellSandbox.baseUrl, folders: [...app.woztellSandbox.state.folders], channelId: app.woztellSandbox.channelId } } : {}),
    ...(app.inbentaSandbox ? { inbenta: { baseUrl: app.inbentaSandbox.authUrl } } : {}),
  };
}
