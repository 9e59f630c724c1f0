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

const statements = new Map();
function prepared(sql) {
  let statement = statements.get(sql);
  if (!statement) {
    if (statements.size >= 500) statements.clear(); // SQL texts are few; this only bounds a surprise
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
}

function args(params) {
  if (params === undefined) return [];
  return Array.isArray(params) ? params : [params];
}

function runStep(step) {
  const statement = prepared(step.sql);
  if (statement.reader) {
    const rows = statement.all(...args(step.params));
    return { changes: rows.length, lastInsertRowid: 0, rows };
  }
  const info = statement.run(...args(step.params));
  return { changes: info.changes, lastInsertRowid: Number(info.lastInsertRowid) };
}

class Expected extends Error {}

function runOp(op) {
  if (op.guard && prepared(op.guard.sql).get(...args(op.guard.params)) !== undefined) {
    for (const step of op.otherwise ?? []) runStep(step);
    return { ok: true, guarded: true };
  }
  const steps = [];
  for (const step of op.steps) {
    const result = runStep(step);
    if (step.expectChanges && result.changes !== step.expectChanges.count) throw new Expected(step.expectChanges.message);
    steps.push(result);
  }
  return { ok: true, guarded: false, steps };
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
  try {
    parentPort.postMessage({ type: 'batch', id: message.id, results: runBatch(message.ops), commits });
  } catch (error) {
    parentPort.postMessage({ type: 'batch-failed', id: message.id, message: error instanceof Error ? error.message : String(error), commits });
  }
});
