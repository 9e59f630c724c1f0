/**
 * `handoff serve [--bot <module>]` (what `npm start` runs): the endpoint with the example support bot,
 * or yours. Outside sandbox mode a supervising process holds PORT and runs the endpoint in a worker
 * it restarts (SIGHUP reloads it); `--single-process` (and sandbox mode, whose emulations live in the
 * same process) runs it in this process.
 */
import path from 'node:path';
import { loadConfig } from '../load-config';
import { createLogger } from '../log';
import { Supervisor } from '../hosting/supervisor';
import { WorkerExitedError, type WorkerCommand } from '../hosting/worker-process';
import { WORKER_ENV } from '../http/client-address';

/** How a worker runs this command line (tests run it under vite-node and say so here). */
let workerScript: Pick<WorkerCommand, 'modulePath' | 'execArgv'> & { argsBefore?: string[] } = { modulePath: path.join(__dirname, 'main.js') };
export function setWorkerScript(script: typeof workerScript): void {
  workerScript = script;
}

export async function serve(options: { bot?: string; singleProcess?: boolean } = {}): Promise<number> {
  if (process.env[WORKER_ENV] === '1') return (await import('../hosting/supervised-worker')).runSupervisedWorker(options.bot);
  const config = loadConfig(process.env, 'serve');
  if (options.singleProcess || config.sandbox) return serveInProcess(options.bot);
  return supervise(config.port, config.host, config.logLevel, config.secrets, options.bot);
}

async function supervise(port: number, host: string, level: NonNullable<Parameters<typeof createLogger>[0]>['level'], secrets: string[], bot?: string): Promise<number> {
  const logger = createLogger({ level, secrets });
  const supervisor = new Supervisor({
    port,
    host,
    logger,
    worker: { modulePath: workerScript.modulePath, execArgv: workerScript.execArgv, args: [...(workerScript.argsBefore ?? []), 'serve', ...(bot ? ['--bot', bot] : [])] },
  });
  let stopping: Promise<void> | undefined;
  let onStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (onStopped = resolve));
  const stop = (signal: string) => {
    if (stopping) return;
    logger.info('shutting down', { signal });
    // Also while the first worker starts: it is killed, and start() fails.
    stopping = supervisor.stop().then(onStopped, (error: unknown) => {
      logger.error('shutdown failed', { error });
      onStopped();
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  let started = false;
  process.on('SIGHUP', () => {
    if (!started || stopping) return;
    logger.info('reloading: a new worker loads the code on disk', { signal: 'SIGHUP' });
    void supervisor.reload();
  });
  try {
    await supervisor.start();
  } catch (error) {
    if (supervisor.stopped) {
      await stopping;
      return 0;
    }
    // The worker said why (its own error on stderr); its exit code is ours.
    if (error instanceof WorkerExitedError) return error.exit.code ?? 1;
    throw error;
  }
  started = true;
  await stopped;
  return 0;
}

async function serveInProcess(botModule?: string): Promise<number> {
  // Loaded here, not at the top: the supervisor stays small.
  const [{ endpointBanner, sandboxBanner }, { loadBotModule }, { serve: serveBot }, { alsoFrom }] = await Promise.all([
    import('../hosting/banner'),
    import('../hosting/load-bot-module'),
    import('../hosting/serve'),
    import('../pipeline/native-choices'),
  ]);
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
