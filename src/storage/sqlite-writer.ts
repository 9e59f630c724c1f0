/**
 * Group commit: every write to the SQLite file goes through this one writer, which hands them to a
 * worker thread owning the write connection. Operations submitted while a batch is being committed,
 * or in the same turn of the event loop, are committed together: one transaction, one fsync. Each
 * submitter's promise settles when its batch is committed, with its own outcome; an operation that
 * fails (a stale eTag) fails alone. Operations run in submission order, batch after batch.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { HandoffError } from '../errors';
import { StoreWriteError } from './store-write-error';
import type { FromWriterThread, StepResult, ToWriterThread, WireOp, WireResult, WireSql, WireStep, WriteOp, WriteStep } from './sqlite-write-op';

/** Next to this module in the sources and in dist/ (the build copies it). */
export const WRITER_THREAD_FILE = path.join(__dirname, 'sqlite-writer-worker.cjs');

/** Bounds one transaction; what is left waits for the next batch. */
const MAX_BATCH_OPS = 1000;
/** SQL texts numbered for the wire; the stores use a few dozen, this only bounds a surprise. */
const MAX_NUMBERED_SQL = 1000;

export type OpOutcome = { guarded: true } | { guarded: false; steps: StepResult[] };

export interface WriterStats {
  /** Batches answered by the thread (each one transaction). */
  batches: number;
  /** Operations submitted in those batches. */
  operations: number;
  /** Transactions the thread reported as committed (each one fsync). */
  commits: number;
}

interface Pending {
  op: WriteOp;
  resolve: (outcome: OpOutcome) => void;
  reject: (error: Error) => void;
}

export class SqliteWriter {
  readonly stats: WriterStats = { batches: 0, operations: 0, commits: 0 };
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private queue: Pending[] = [];
  private inFlight?: { id: number; pending: Pending[] };
  private scheduled = false;
  private nextId = 1;
  private failure?: Error;
  private closing?: Promise<void>;
  private running = true;
  private idleWaiters: Array<() => void> = [];
  /** SQL texts the thread has already seen, by their wire number. */
  private readonly sqlNumbers = new Map<string, number>();

  /** `file`: an existing, migrated SQLite file (openSqlite). */
  constructor(private readonly file: string) {
    if (!fs.existsSync(WRITER_THREAD_FILE)) {
      throw new HandoffError('storage_unavailable', `cannot use the SQLite store at ${file}: the writer thread's code ${WRITER_THREAD_FILE} is missing (is the build complete?)`);
    }
    this.worker = new Worker(WRITER_THREAD_FILE, { workerData: { file } });
    this.worker.unref(); // referenced only while a batch is on its way, like a socket with a request
    this.worker.on('message', (message: FromWriterThread) => this.onMessage(message));
    this.worker.on('error', (error) => this.fail(this.unavailable(`its writer thread failed: ${error.message}`)));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        this.running = false;
        this.fail(this.closing ? new HandoffError('storage_closed', 'the store is closed') : this.unavailable('its writer thread stopped'));
        resolve();
      }),
    );
  }

  /** Whether the writer thread is alive. */
  get isRunning(): boolean {
    return this.running;
  }

  /** Queues an operation for the next batch; settles once that batch is committed. */
  submit(op: WriteOp): Promise<OpOutcome> {
    if (this.closing) return Promise.reject(new HandoffError('storage_closed', 'the store is closed'));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<OpOutcome>((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once everything submitted so far is committed (or has failed). */
  flush(): Promise<void> {
    if (!this.inFlight && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Commits what is pending, then closes the write connection and ends the thread. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.worker.ref();
      await this.flush();
      if (this.running) this.post({ type: 'close' });
      await this.exited;
    })();
    return this.closing;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    // After the current phase of the loop: every write submitted meanwhile joins this batch.
    setImmediate(() => {
      this.scheduled = false;
      this.send();
    });
  }

  private send(): void {
    if (this.inFlight) return;
    if (this.queue.length === 0) {
      if (!this.closing) this.worker.unref();
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    const pending = this.queue.splice(0, MAX_BATCH_OPS);
    const id = this.nextId++;
    this.inFlight = { id, pending };
    this.stats.operations += pending.length;
    this.worker.ref();
    this.post({ type: 'batch', id, ops: pending.map((p) => this.wireOp(p.op)) });
  }

  private wireOp(op: WriteOp): WireOp {
    const wire: WireOp = { steps: op.steps.map((step) => this.wireStep(step)) };
    // Encoded in the order the thread decodes: steps, guard, otherwise.
    if (op.guard) wire.guard = this.wireStep(op.guard);
    if (op.otherwise) wire.otherwise = op.otherwise.map((step) => this.wireStep(step));
    return wire;
  }

  private wireStep(step: WriteStep | NonNullable<WriteOp['guard']>): WireStep {
    const sql = this.wireSql(step.sql);
    const expect = 'expectChanges' in step ? step.expectChanges : undefined;
    if (expect) return [sql, step.params, expect.count, expect.message];
    return step.params === undefined ? [sql] : [sql, step.params];
  }

  private wireSql(sql: string): WireSql {
    const known = this.sqlNumbers.get(sql);
    if (known !== undefined) return known;
    if (this.sqlNumbers.size >= MAX_NUMBERED_SQL) return { once: sql };
    this.sqlNumbers.set(sql, this.sqlNumbers.size);
    return sql;
  }

  private post(message: ToWriterThread): void {
    this.worker.postMessage(message);
  }

  private onMessage(message: FromWriterThread): void {
    if (message.type === 'open-failed') {
      this.fail(this.unavailable(message.message));
      return;
    }
    if (message.type === 'closed') return;
    const batch = this.inFlight;
    if (!batch || batch.id !== message.id) return;
    this.inFlight = undefined;
    this.stats.batches++;
    this.stats.commits = message.commits;
    if (message.type === 'batch-failed') {
      const error = this.unavailable(`a write could not be committed: ${message.message}`);
      for (const p of batch.pending) p.reject(error);
    } else {
      batch.pending.forEach((p, i) => settle(p, message.results[i]));
    }
    // The continuations of the promises just settled run before the next batch leaves, and join it.
    this.schedule();
  }

  /** The thread is gone or cannot write: everything pending fails, and so does every later write. */
  private fail(error: Error): void {
    this.failure ??= error;
    const pending = [...(this.inFlight?.pending ?? []), ...this.queue.splice(0)];
    this.inFlight = undefined;
    for (const p of pending) p.reject(this.failure);
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private unavailable(reason: string): HandoffError {
    return new HandoffError('storage_unavailable', `cannot use the SQLite store at ${this.file}: ${reason}`);
  }
}

function settle(pending: Pending, result: WireResult | undefined): void {
  if (!result) pending.reject(new StoreWriteError('storage_write_failed', 'the writer thread gave no result for this write'));
  else if (!result.ok) pending.reject(result.code === 'expected' ? new StoreWriteError('storage_conflict', result.message) : new StoreWriteError('storage_write_failed', result.message, result.code));
  else pending.resolve(result.guarded ? { guarded: true } : { guarded: false, steps: stepResults(result.counts, result.rows) });
}

function stepResults(counts: number[], rows: Record<number, Array<Record<string, unknown>>> | undefined): StepResult[] {
  const steps: StepResult[] = [];
  for (let i = 0; i < counts.length; i += 2) {
    const step: StepResult = { changes: counts[i]!, lastInsertRowid: counts[i + 1]! };
    const returned = rows?.[i / 2];
    if (returned) step.rows = returned;
    steps.push(step);
  }
  return steps;
}
