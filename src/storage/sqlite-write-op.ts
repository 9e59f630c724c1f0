/**
 * What the SQLite writer thread executes: operations made of prepared SQL with parameters. The SQL
 * lives in the typed store modules; the thread (sqlite-writer-worker.cjs) only runs it, so it stays
 * small and generic. Everything here crosses the thread boundary by structured clone.
 */
export type SqlValue = string | number | bigint | null | Uint8Array;
/** Positional (`?`) or named (`@name`) parameters. */
export type SqlParams = SqlValue[] | Record<string, SqlValue>;

export interface WriteStep {
  sql: string;
  params?: SqlParams;
  /** The operation fails (rolled back, nothing of it written) unless the step changed exactly `count` rows. */
  expectChanges?: { count: number; message: string };
}

export interface WriteOp {
  /** A query run first: when it returns a row the operation stops, writes nothing and reports `guarded`. */
  guard?: { sql: string; params?: SqlParams };
  /** Run instead of `steps` when the guard stops the operation (still reported `guarded`). */
  otherwise?: WriteStep[];
  steps: WriteStep[];
}

/** One step's outcome: rows for a statement that returns data (RETURNING), else changes and the last rowid. */
export interface StepResult {
  changes: number;
  lastInsertRowid: number;
  rows?: Array<Record<string, unknown>>;
}

export type OpResult =
  | { ok: true; guarded: true }
  | { ok: true; guarded: false; steps: StepResult[] }
  /** `expected` when a step's expectChanges was not met (a stale eTag), otherwise SQLite's error code. */
  | { ok: false; message: string; code?: string };

/** Main thread → writer thread. */
export type ToWriterThread = { type: 'batch'; id: number; ops: WriteOp[] } | { type: 'close' };

/** Writer thread → main thread. `commits` counts the transactions the thread committed so far. */
export type FromWriterThread =
  | { type: 'batch'; id: number; results: OpResult[]; commits: number }
  | { type: 'batch-failed'; id: number; message: string; commits: number }
  | { type: 'open-failed'; message: string }
  | { type: 'closed' };
