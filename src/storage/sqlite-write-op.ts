/**
 * What the SQLite writer thread executes: operations made of prepared SQL with parameters. The SQL
 * lives in the typed store modules; the thread (sqlite-writer-worker.cjs) only runs it, so it stays
 * small and generic. What crosses the thread boundary (by structured clone) is the compact wire form at the end.
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

/**
 * On the wire, a statement's SQL travels once: the first time as its text (`string`), which both sides
 * then number in order of appearance, and later as that number. `{ once }` is a text past the bound of
 * numbered texts, prepared for this use only. A step is `[sql, params?, expectCount?, expectMessage?]`.
 */
export type WireSql = number | string | { once: string };
export type WireStep = [sql: WireSql, params?: SqlParams, expectCount?: number, expectMessage?: string];
export interface WireOp {
  guard?: WireStep;
  otherwise?: WireStep[];
  steps: WireStep[];
}

/**
 * An operation's outcome on the wire: `counts` holds, per step, its changes then its last rowid;
 * `rows` the rows of the steps that return data, by step index.
 */
export type WireResult =
  | { ok: true; guarded: true }
  | { ok: true; guarded: false; counts: number[]; rows?: Record<number, Array<Record<string, unknown>>> }
  | { ok: false; message: string; code?: string };

/** Main thread → writer thread. */
export type ToWriterThread = { type: 'batch'; id: number; ops: WireOp[] } | { type: 'close' };

/** Writer thread → main thread. `commits` counts the transactions the thread committed so far. */
export type FromWriterThread =
  | { type: 'batch'; id: number; results: WireResult[]; commits: number }
  | { type: 'batch-failed'; id: number; message: string; commits: number }
  | { type: 'open-failed'; message: string }
  | { type: 'closed' };
