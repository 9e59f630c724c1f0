/** `handoff serve [--bot <module>]` (what `npm start` runs): the endpoint with the example support bot, or yours. */
import { endpointBanner, sandboxBanner } from '../hosting/banner';
import { loadBotModule } from '../hosting/load-bot-module';
import { serve as serveBot } from '../hosting/serve';
import { alsoFrom } from '../pipeline/native-choices';

export { sandboxBanner } from '../hosting/banner';

export async function serve(botModule?: string): Promise<number> {
  // Listened for from the start: a stop asked for while starting, or as soon as the banner shows,
  // is a graceful one once the endpoint is up.
  let signalled: string | undefined;
  let onSignal: (signal: string) => void = (signal) => (signalled = signal);
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));

  const loaded = botModule ? await loadBotModule(botModule) : undefined;
  if (loaded) alsoFrom(loaded.file);
  const app = await serveBot(loaded?.source, { handleSignals: false, banner: false });
  if (loaded) app.logger.info('serving your bot', { module: loaded.file });
  const stopped = new Promise<void>((resolve) => {
    onSignal = (signal) => {
      app.logger.info('shutting down', { signal });
      void app.stop().then(resolve, (error: unknown) => {
        app.logger.error('shutdown failed', { error });
        resolve();
      });
    };
  });
  process.stdout.write(app.config.sandbox ? sandboxBanner(app) : endpointBanner(app));
  if (signalled) onSignal(signalled);
  await stopped;
  return 0;
}
