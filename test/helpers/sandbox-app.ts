/** The app in sandbox mode (what `npm start` runs with nothing configured) on loopback, its platforms emulated, state in memory. */
import { App, type AppOptions } from '../../src/app';
import { loadConfig } from '../../src/load-config';
import { createLogger } from '../../src/log';
import { settle } from './settle';

export async function startSandboxApp(env: Record<string, string> = {}, options: AppOptions = {}) {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', STORAGE_URL: 'memory:', ...env });
  const logLines: string[] = [];
  const app = new App(config, {
    logger: createLogger({ level: 'debug', secrets: config.secrets, write: (line) => logLines.push(line) }),
    drainTimeoutMs: 2000,
    console: { sampleEveryMs: 60_000, livePollMs: 50 },
    ...options,
    // Quick redeliveries from the emulated Nimchat, beside whatever else the test sets for it.
    platformOptions: { ...options.platformOptions, nimchat: { ...options.platformOptions?.nimchat, sandbox: { deliveryRetryDelayMs: 10, deliveryTimeoutMs: 2000, ...options.platformOptions?.nimchat?.sandbox } } },
  });
  await app.start();
  return {
    app,
    logLines,
    url: app.url,
    settle: async () => {
      await settle(app.sandbox!, app.queue, app.runtime.delivery);
      await settle(app.woztellSandbox!, app.queue, app.runtime.delivery);
    },
    close: () => app.stop(),
  };
}
