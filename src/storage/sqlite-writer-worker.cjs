'use strict';
// The SQLite writer thread: it owns the write connection and runs each batch of operations in ONE
// transaction (one fsync on COMMIT), every operation inside its own savepoint so a failing one (a
// stale eTag, a constraint) is rolled back alone. The messages are described in sqlite-write-op.ts;
// the SQL comes from the typed store modules, so this file knows nothing of the schema.
// Plain CommonJS so that Node loads it as is, from the sources (tests) and from dist/ (the build copies it).
const { parentPort, workerData } = require('node:worker_threads');
const Database = require('better-sqlite3');

let db;
let openError;
try {
  // The main thread created and migrated the file; this connection only writes to it.
  db = new Database(workerData.file, { fileMustExist: true });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
} catch (error) {
  openError = error instanceof Error ? error.message : String(error);
  parentPort.postMessage({ type: 'open-failed', message: openError });
}

// Statements by the wire number of their SQL (numbered in order of first appearance, as the main
// thread does); texts past its bound come as `{ once }` and are prepared from a small cache.
const numbered = [];
const unnumbered = new Map();

/** A statement, or what stands for one that could not be prepared (its use fails that operation alone, and tries again). */
function prepare(sql) {
  try {
    return db.prepare(sql);
  } catch (error) {
    return { failed: error, sql };
  }
}

function prepareOnce(sql) {
  let statement = unnumbered.get(sql);
  if (!statement) {
    if (unnumbered.size >= 100) unnumbered.clear();
    statement = prepare(sql);
    if (!statement.failed) unnumbered.set(sql, statement);
  }
  return statement;
}

/** Replaces each step's SQL reference by its statement, in the order the main thread encoded them (steps, guard, otherwise). */
function resolveOp(op) {
  for (const step of op.steps) resolveStep(step);
  if (op.guard) resolveStep(op.guard);
  if (op.otherwise) for (const step of op.otherwise) resolveStep(step);
}

function resolveStep(step) {
  const ref = step[0];
  if (typeof ref === 'number') step[0] = numbered[ref];
  else if (typeof ref === 'string') {
    // Numbered even when preparing fails, so both sides keep counting alike; the step then fails.
    numbered.push(prepare(ref));
    step[0] = numbered[numbered.length - 1];
  } else step[0] = prepareOnce(ref.once);
}

function args(params) {
  if (params === undefined) return [];
  return Array.isArray(params) ? params : [params];
}

function statementOf(step) {
  let statement = step[0];
  if (statement.failed) {
    // Prepared again at each use (a passing condition, e.g. a busy schema); numbered ones keep the fix.
    const again = prepare(statement.sql);
    if (again.failed) throw again.failed;
    const at = numbered.indexOf(statement);
    if (at >= 0) numbered[at] = again;
    step[0] = statement = again;
  }
  return statement;
}

/** Runs a step; its changes and last rowid go to `counts`, the rows of a statement that returns data to `rows`. */
function runStep(step, index, counts, rows) {
  const statement = statementOf(step);
  if (statement.reader) {
    const returned = statement.all(...args(step[1]));
    counts.push(returned.length, 0);
    rows[index] = returned;
    return returned.length;
  }
  const info = statement.run(...args(step[1]));
  counts.push(info.changes, Number(info.lastInsertRowid));
  return info.changes;
}

class Expected extends Error {}

function runOp(op) {
  if (op.guard && statementOf(op.guard).get(...args(op.guard[1])) !== undefined) {
    for (const step of op.otherwise ?? []) runStep(step, 0, [], {});
    return { ok: true, guarded: true };
  }
  const counts = [];
  const rows = {};
  let returning = false;
  op.steps.forEach((step, i) => {
    const changes = runStep(step, i, counts, rows);
    if (statementOf(step).reader) returning = true;
    if (step[2] !== undefined && changes !== step[2]) throw new Expected(step[3]);
  });
  return returning ? { ok: true, guarded: false, counts, rows } : { ok: true, guarded: false, counts };
}

let commits = 0;

function runBatch(ops) {
  db.exec('BEGIN IMMEDIATE');
  try {
    const results = ops.map((op) => {
      db.exec('SAVEPOINT op');
      try {
        const result = runOp(op);
        db.exec('RELEASE op');
        return result;
      } catch (error) {
        // Some errors (I/O, disk full) make SQLite roll the whole transaction back: then the batch fails.
        if (!db.inTransaction) throw error;
        db.exec('ROLLBACK TO op');
        db.exec('RELEASE op');
        return { ok: false, message: error.message, code: error instanceof Expected ? 'expected' : error.code };
      }
    });
    db.exec('COMMIT');
    commits++;
    return results;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

parentPort.on('message', (message) => {
  if (message.type === 'close') {
    if (db) db.close();
    parentPort.postMessage({ type: 'closed' });
    parentPort.close(); // nothing else keeps the thread alive: it ends
    return;
  }
  if (openError !== undefined) {
    parentPort.postMessage({ type: 'batch-failed', id: message.id, message: openError, commits });
    return;
  }
  for (const op of message.ops) resolveOp(op);
  try {
    parentPort.postMessage({ type: 'batch', id: message.id, results: runBatch(message.ops), commits });
  } catch (error) {
    parentPort.postMessage({ type: 'batch-failed', id: message.id, message: error instanceof Error ? error.message : String(error), commits });
  }
});
