/** `handoff serve [--bot <module>]` (what `npm start` runs): the endpoint with the example support bot, or yours. */
import { loadBotModule } from '../hosting/load-bot-module';
import { alsoFrom } from '../pipeline/native-choices';
import { serve as serveBot } from '../hosting/serve';

export async function serve(botModule?: string): Promise<number> {
  const loaded = botModule ? await loadBotModule(botModule) : undefined;
  if (loaded) alsoFrom(loaded.file);
  const app = await serveBot(loaded?.source, { handleSignals: false });
  if (loaded) app.logger.info('serving your bot', { module: loaded.file });

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

export { sandboxBanner } from '../hosting/banner';
