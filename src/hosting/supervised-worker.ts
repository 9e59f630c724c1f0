/**
 * `handoff serve` as the supervisor's worker: loads (the bot module, the configuration, the product's
 * modules) and says so; opens the store and listens on a private loopback port only when told to
 * start (the previous worker has exited by then); serves until told to stop. SIGTERM to the worker
 * alone is a stop on its own (the supervisor starts another); SIGINT is left to the supervisor (a
 * terminal's Ctrl-C reaches both). When the supervisor is gone the worker exits at once, as if killed
 * with it, so no worker outlives it to share the store with the next one.
 */
import { loadConfig } from '../load-config';
import { endpointBanner } from './banner';
import { loadBotModule } from './load-bot-module';
import { serve as serveBot } from './serve';
import { alsoFrom } from '../pipeline/native-choices';
import { SupervisorMessageSchema, type SupervisorMessage, type WorkerMessage } from './worker-protocol';

export async function runSupervisedWorker(botModule?: string): Promise<number> {
  const exitWithSupervisor = () => process.exit(1);
  process.on('disconnect', exitWithSupervisor);
  try {
    return await work(botModule);
  } finally {
    // Done (or failed): the channel no longer keeps the process alive, and the supervisor sees the exit.
    process.off('disconnect', exitWithSupervisor);
    (process.channel as { unref?: () => void } | undefined)?.unref?.();
  }
}

async function work(botModule?: string): Promise<number> {
  // The supervisor decides: Ctrl+C and a closed terminal reach the whole process group.
  process.on('SIGINT', () => undefined);
  process.on('SIGHUP', () => undefined);
  const send = (message: WorkerMessage) => process.send?.(message);
  const messages = supervisorMessages();

  let stopReason: string | undefined;
  const stopAsked = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => {
      stopReason ??= 'SIGTERM';
      send({ type: 'stopping', reason: 'SIGTERM' });
      resolve('SIGTERM');
    });
    void messages.next('stop').then(() => resolve((stopReason ??= 'asked by the supervisor')));
  });

  const loaded = botModule ? await loadBotModule(botModule) : undefined;
  if (loaded) alsoFrom(loaded.file);
  // A bad variable fails here, before the store is touched: on a reload the old worker serves on.
  const config = loadConfig(process.env, 'serve');
  send({ type: 'loaded' });
  const loadedMs = Math.round(process.uptime() * 1000);

  const start = await Promise.race([messages.next('start'), stopAsked]);
  if (typeof start === 'string') return 0;
  // A private port; the replica keeps the name the public PORT gives it (its leases are its own after a restart).
  const env = { PORT: '0', HOST: '127.0.0.1', ...(config.replicaId ? { REPLICA_ID: config.replicaId } : {}) };
  const app = await serveBot(loaded?.source, { handleSignals: false, banner: false, env });
  if (loaded) app.logger.info('serving your bot', { module: loaded.file });
  const routes = app.platforms
    .filter((platform) => app.running.has(platform.name))
    .flatMap((platform) => platform.routes.map((route) => ({ method: route.method, path: route.path, redeliverStatus: platform.redeliverStatus })));
  send({ type: 'ready', port: app.listenAddress.port, routes });
  // How long this worker took: loading (modules, configuration, the bot), then opening, recovering, listening.
  app.logger.info('worker ready', { loadedMs, readyMs: Math.round(process.uptime() * 1000) });
  if (start.banner) process.stdout.write(endpointBanner(app, start.address));

  const reason = await stopAsked;
  app.logger.info('worker shutting down', { reason });
  try {
    await app.stop();
    return 0;
  } catch (error) {
    app.logger.error('shutdown failed', { error });
    return 1;
  }
}

/** The supervisor's messages, waited for by type. */
function supervisorMessages() {
  const waiting = new Map<SupervisorMessage['type'], Array<(message: SupervisorMessage) => void>>();
  const seen = new Map<SupervisorMessage['type'], SupervisorMessage>();
  process.on('message', (raw: unknown) => {
    const parsed = SupervisorMessageSchema.safeParse(raw);
    if (!parsed.success) return;
    seen.set(parsed.data.type, parsed.data);
    for (const resolve of waiting.get(parsed.data.type) ?? []) resolve(parsed.data);
    waiting.delete(parsed.data.type);
  });
  return {
    next<T extends SupervisorMessage['type']>(type: T): Promise<Extract<SupervisorMessage, { type: T }>> {
      const already = seen.get(type);
      if (already) return Promise.resolve(already as Extract<SupervisorMessage, { type: T }>);
      return new Promise((resolve) => waiting.set(type, [...(waiting.get(type) ?? []), resolve as (message: SupervisorMessage) => void]));
    },
  };
}
