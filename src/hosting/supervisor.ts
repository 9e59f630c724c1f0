/**
 * What `handoff serve` runs outside sandbox mode: a small process that holds PORT for as long as it
 * runs, and one worker behind it that does everything else (the platforms, the store, the bot, the
 * console). A platform never finds the port closed: while a worker restarts, requests wait in the
 * supervisor (FrontDoor) and are passed on once the next one listens.
 *
 * - SIGHUP (a deploy): a new worker loads the code now on disk while the old one serves; then the
 *   old one drains and exits, and the new one opens the store and serves. A new worker that fails to
 *   load (a syntax error, a bad variable) is reported and the old one goes on serving.
 * - A worker that exits unasked (a crash, kill -9, SIGTERM to it alone) is replaced at once; after
 *   five that failed within 10 s of starting, in a row, the next waits 1 s, 2 s … up to 30 s.
 * - SIGTERM or SIGINT: the worker drains and exits, then the supervisor.
 *
 * Never two workers on the store at once: the next one opens it only after the previous one exited.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOn } from '../http/listen-on';
import type { Logger } from '../log';
import { describeAddress } from './banner';
import { FrontDoor } from './front-door';
import { SupervisorMetrics } from './supervisor-metrics';
import { WorkerProcess, type WorkerCommand } from './worker-process';

export interface SupervisorOptions {
  port: number;
  host: string;
  worker: WorkerCommand;
  env?: NodeJS.ProcessEnv;
  logger: Logger;
  /** How long a request may wait for a worker (default 4 s). */
  holdMs?: number;
  /** How long a worker may take to drain and exit before it is killed (default 30 s). */
  stopGraceMs?: number;
}

const QUICK_FAILURE_MS = 10_000;
/** Workers that fail soon after starting, in a row, replaced without a pause. */
const FREE_RESTARTS = 5;
/** A worker that has not loaded (modules, configuration, the bot module) by then is killed. */
const LOAD_MS = 120_000;
/** Nor opened the store, recovered and listened by then (a large backlog to recover takes a while). */
const READY_MS = 600_000;
const MAX_PAUSE_MS = 30_000;

export class Supervisor {
  readonly metrics = new SupervisorMetrics();
  readonly front: FrontDoor;
  private readonly server: http.Server;
  private current?: WorkerProcess;
  /** The first worker, until it serves. */
  private starting?: WorkerProcess;
  /** A replacement, while it loads and starts. */
  private next?: WorkerProcess;
  private replacing?: Promise<boolean>;
  private stopping = false;
  private quickFailures = 0;
  private address = '';

  constructor(private readonly options: SupervisorOptions) {
    this.front = new FrontDoor({ holdMs: options.holdMs, logger: options.logger, metrics: this.metrics });
    this.server = this.front.createServer();
  }

  /** The worker serving now. */
  get workerPid(): number | undefined {
    return this.current?.alive ? this.current.pid : undefined;
  }

  /** Whether a stop was asked for. */
  get stopped(): boolean {
    return this.stopping;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Listens on PORT, then starts the first worker; rejects when it cannot (the worker's exit code in `exit`), or when stopped meanwhile. */
  async start(): Promise<void> {
    const { host, port } = this.options;
    await listenOn({ what: 'The bot endpoint', host, port, variable: { name: 'PORT', value: port }, hostVariable: 'HOST' }, () => new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    }));
    this.address = describeAddress(host, this.port);
    const worker = this.spawn();
    this.starting = worker;
    try {
      await this.within(worker.loaded, LOAD_MS, worker, 'load');
      if (this.stopping) throw new Error('stopped while the first worker started');
      worker.start(true, this.address);
      await this.within(this.serveWith(worker), READY_MS, worker, 'start');
    } catch (error) {
      worker.kill();
      if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
      throw error;
    } finally {
      this.starting = undefined;
    }
    this.metrics.workerStarts.inc({ reason: 'first' });
    this.options.logger.info('supervising the worker', { supervisor: process.pid, worker: worker.pid, listening: this.address });
  }

  /** A new worker with the code now on disk; resolves false when it failed to load (the old one serves on). */
  reload(): Promise<boolean> {
    return this.replace('reload');
  }

  /** Drains the worker and stops listening (a worker still loading or starting is killed). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.front.close();
    this.starting?.kill();
    this.next?.kill();
    const grace = this.options.stopGraceMs ?? 30_000;
    if (this.current?.alive) await this.current.stop(grace);
    await this.replacing?.catch(() => undefined);
    // A replacement that was starting when the stop came.
    if (this.current?.alive) await this.current.stop(grace);
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private spawn(): WorkerProcess {
    return new WorkerProcess(this.options.worker, this.options.env ?? process.env, this.options.logger, (worker) => {
      // It stops on its own (SIGTERM to it alone): new requests wait for its successor.
      if (worker === this.current) {
        this.front.hold();
        void this.replace('exited');
      }
    });
  }

  /** `step` of `worker` within `ms`; past it the worker is killed (its exit fails the step). */
  private async within<T>(step: Promise<T>, ms: number, worker: WorkerProcess, what: string): Promise<T> {
    const timer = setTimeout(() => {
      this.options.logger.error(`the worker did not ${what} in time: killed`, { pid: worker.pid, ms });
      worker.kill();
    }, ms);
    try {
      return await step;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for `worker` to listen, then passes it every request. */
  private async serveWith(worker: WorkerProcess): Promise<void> {
    const { port, routes } = await worker.ready;
    this.current = worker;
    this.front.setRoutes(routes);
    this.front.serveAt(port);
    void worker.exited.then((exit) => {
      if (this.current !== worker || this.stopping || worker.asked) return;
      this.front.hold();
      const how = exit.signal ?? `code ${exit.code}`;
      this.metrics.workerExits.inc({ how: exit.signal ?? String(exit.code) });
      // One that said it stops on its own is being replaced already.
      if (worker.stoppingOnItsOwn) this.options.logger.info('the worker stopped on its own', { pid: worker.pid, how });
      else this.options.logger.error('the worker exited unasked: starting another', { pid: worker.pid, how });
      void this.replace('exited');
    });
  }

  /**
   * The next worker loads while the current one (if alive) serves; then the current one drains and
   * exits, and the next one starts. One replacement at a time: a second asks for waits for the first.
   */
  private replace(reason: 'reload' | 'exited'): Promise<boolean> {
    const run = (this.replacing ?? Promise.resolve(true)).then(() => this.replaceNow(reason));
    this.replacing = run;
    void run.finally(() => {
      if (this.replacing === run) this.replacing = undefined;
    });
    return run;
  }

  private async replaceNow(reason: 'reload' | 'exited'): Promise<boolean> {
    const old = this.current;
    // The exit that asked for this was already handled by an earlier replacement.
    if (reason === 'exited' && old?.alive && !old.stoppingOnItsOwn) return true;
    // A worker that served a while before it died starts the count again.
    if (old && !old.alive && !old.asked) this.quickFailures = old.readyAt !== undefined && Date.now() - old.readyAt > QUICK_FAILURE_MS ? 1 : this.quickFailures + 1;
    for (;;) {
      if (this.stopping) return false;
      // Every pause holds webhooks past the platform's patience: the first few are restarted at once (a
      // poison event is set aside after its third try), then 1 s, 2 s, 4 s … up to 30 s.
      const pause = this.quickFailures <= FREE_RESTARTS ? 0 : Math.min(MAX_PAUSE_MS, 1000 * 2 ** (this.quickFailures - FREE_RESTARTS - 1));
      if (pause > 0) {
        this.options.logger.warn('workers keep failing soon after they start: pausing before the next', { pauseMs: pause });
        await new Promise((resolve) => setTimeout(resolve, pause));
        if (this.stopping) return false;
      }
      const next = this.spawn();
      this.next = next;
      try {
        await this.within(next.loaded, LOAD_MS, next, 'load');
      } catch (error) {
        if (this.stopping) return false;
        if (reason === 'reload' && old?.alive) {
          this.metrics.reloadsFailed.inc();
          this.options.logger.error('reload failed: the new worker did not load; the running worker serves on', { error: (error as Error).message });
          return false;
        }
        this.quickFailures++;
        this.options.logger.error('the new worker did not load', { error: (error as Error).message });
        continue;
      }
      if (this.stopping) {
        next.child.kill('SIGKILL');
        return false;
      }
      if (old?.alive) {
        this.front.hold();
        await old.stop(this.options.stopGraceMs ?? 30_000);
      }
      // A stop asked for while the old one drained: the new one never opens the store.
      if (this.stopping) {
        next.kill();
        return false;
      }
      next.start(false, this.address);
      try {
        await this.within(this.serveWith(next), READY_MS, next, 'start');
      } catch (error) {
        this.quickFailures++;
        this.options.logger.error('the new worker did not start', { error: (error as Error).message });
        continue;
      }
      this.next = undefined;
      this.metrics.workerStarts.inc({ reason });
      this.options.logger.info(reason === 'reload' ? 'reloaded: the new worker serves' : 'the new worker serves', { worker: next.pid });
      return true;
    }
  }

}
