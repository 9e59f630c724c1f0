/**
 * One worker as its supervisor sees it: a forked `handoff serve` that loads (modules, configuration,
 * the bot) and waits; is told to start (open the store, recover, listen on a private loopback port);
 * then serves until told to stop, or until it stops or dies on its own.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log';
import { SupervisorMessageSchema, WORKER_ENV, WorkerMessageSchema, type SupervisorMessage, type WebhookRouteInfo } from './worker-protocol';

export interface WorkerCommand {
  /** The script node runs (the `handoff` command line). */
  modulePath: string;
  /** Its arguments: `serve [--bot <module>]`. */
  args: string[];
  execArgv?: string[];
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A worker that exited before it got where it was asked to (loaded, ready). */
export class WorkerExitedError extends Error {
  constructor(
    readonly exit: WorkerExit,
    stage: string,
  ) {
    super(`the worker exited ${exit.signal ? `on ${exit.signal}` : `with code ${exit.code}`} before it was ${stage}`);
  }
}

export class WorkerProcess {
  readonly child: ChildProcess;
  /** Resolves once it has loaded and waits to be started. */
  readonly loaded: Promise<void>;
  /** Resolves with what it serves once it listens. */
  readonly ready: Promise<{ port: number; routes: WebhookRouteInfo[] }>;
  readonly exited: Promise<WorkerExit>;
  readyAt?: number;
  /** It said it stops on its own (it was sent SIGTERM, or it failed). */
  stoppingOnItsOwn = false;
  /** The supervisor asked it to stop. */
  asked = false;
  private exit?: WorkerExit;

  constructor(
    command: WorkerCommand,
    env: NodeJS.ProcessEnv,
    private readonly logger: Logger,
    onStopping: (worker: WorkerProcess) => void,
  ) {
    this.child = fork(command.modulePath, command.args, {
      env: { ...env, [WORKER_ENV]: '1' },
      execArgv: command.execArgv ?? process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    // Not events.once: it would reject on the channel's 'error' (a send to a worker that just died).
    this.exited = new Promise<WorkerExit>((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
    let onLoaded!: () => void;
    let onReady!: (value: { port: number; routes: WebhookRouteInfo[] }) => void;
    const loaded = new Promise<void>((resolve) => (onLoaded = resolve));
    const ready = new Promise<{ port: number; routes: WebhookRouteInfo[] }>((resolve) => (onReady = resolve));
    const orExit = <T>(p: Promise<T>, stage: string) =>
      Promise.race([p, this.exited.then((exit) => Promise.reject(new WorkerExitedError(exit, stage)))]);
    this.loaded = orExit(loaded, 'loaded');
    this.ready = orExit(ready, 'ready');
    // Neither is always awaited (a worker may die at any stage): an unawaited rejection is no crash.
    this.loaded.catch(() => undefined);
    this.ready.catch(() => undefined);
    this.child.on('message', (raw: unknown) => {
      const parsed = WorkerMessageSchema.safeParse(raw);
      if (!parsed.success) {
        this.logger.warn('the worker sent a message the supervisor does not know', { pid: this.pid });
        return;
      }
      const message = parsed.data;
      if (message.type === 'loaded') onLoaded();
      else if (message.type === 'ready') {
        this.readyAt = Date.now();
        onReady({ port: message.port, routes: message.routes });
      } else if (message.type === 'stopping' && !this.asked) {
        this.stoppingOnItsOwn = true;
        this.logger.warn('the worker stops on its own', { pid: this.pid, reason: message.reason });
        onStopping(this);
      }
    });
    // A channel error after the worker died is its exit, handled there.
    this.child.on('error', (error) => this.logger.debug('worker channel error', { pid: this.pid, error }));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Open the store, recover and listen. */
  start(banner: boolean, address: string): void {
    this.send({ type: 'start', banner, address });
  }

  /** Killed at once (a worker that never got ready, or the supervisor is stopping while it starts). */
  kill(): void {
    this.asked = true;
    if (this.alive) this.child.kill('SIGKILL');
  }

  /** Drain and exit; killed if it has not exited after `graceMs`. */
  async stop(graceMs: number): Promise<WorkerExit> {
    if (!this.alive) return this.exited;
    this.asked = true;
    this.send({ type: 'stop' });
    const timer = setTimeout(() => {
      this.logger.warn('the worker did not stop in time: killed', { pid: this.pid, graceMs });
      this.child.kill('SIGKILL');
    }, graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  private send(message: SupervisorMessage): void {
    SupervisorMessageSchema.parse(message);
    // A worker that dies meanwhile: its exit is what counts, not the failed send.
    if (this.child.connected) this.child.send(message, (error) => error && this.logger.debug('a message to the worker was not delivered', { pid: this.pid, error }));
  }
}
