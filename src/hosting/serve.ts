/**
 * The whole product around a developer's bot in one call: the platforms the environment configures
 * (or the sandbox's emulations when none is), the durable runtime, Inbenta tickets and their events,
 * the console, health, metrics, and a graceful stop on SIGTERM/SIGINT.
 *
 *   import { serve } from 'botbuilder-handoff-adapters';
 *   await serve(new MyBot());
 */
import { App, type AppOptions } from '../app';
import { loadConfig } from '../load-config';
import { endpointBanner, sandboxBanner } from './banner';
import type { BotSource } from './hosted-bot';

export interface ServeOptions extends Omit<AppOptions, 'bot' | 'createBot'> {
  /** Variables over `process.env` (PORT, STORAGE_URL, NIMCHAT_…): the configuration in code. */
  env?: Record<string, string | undefined>;
  /** Stop gracefully on SIGTERM and SIGINT, then exit (default true). */
  handleSignals?: boolean;
  /** Print where it listens (and, in sandbox mode, how to play each side) on stdout (default true). */
  banner?: boolean;
}

/** Starts the endpoint serving `bot` (the example support bot when absent); resolves once it listens. */
export async function serve(bot?: BotSource, options: ServeOptions = {}): Promise<App> {
  const { env, handleSignals = true, banner = true, ...appOptions } = options;
  const environment = { ...process.env, ...env };
  const config = loadConfig(environment, 'serve', appOptions.platforms);
  const app = new App(config, { ...appOptions, bot });
  await app.start();
  // The signal handlers first: a stop asked for as soon as the banner shows is a graceful one.
  if (handleSignals) {
    const stop = (signal: NodeJS.Signals) => {
      app.logger.info('shutting down', { signal });
      app.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          app.logger.error('shutdown failed', { error });
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  }
  if (banner && appOptions.listen !== false) process.stdout.write(config.sandbox ? sandboxBanner(app) : endpointBanner(app));
  return app;
}
