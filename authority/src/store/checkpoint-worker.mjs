// Runs in a worker thread: WAL checkpoints on a connection of its own, so that the event loop's
// commits never stall on a checkpoint's page copies and fsyncs. PASSIVE never waits for a lock
// and never blocks a writer; what it cannot copy now, the next checkpoint does. Plain JavaScript:
// no TypeScript loader to start for a thread this small.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.file, { fileMustExist: true });
db.pragma(`synchronous = ${Number(workerData.synchronous)}`);

parentPort.on('message', () => {
  try {
    // { busy, log: frames in the WAL, checkpointed: frames now copied into the database }
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage(result);
  } catch {
    // SQLITE_BUSY and the like: the next request tries again, and the main connection's
    // own (distant) automatic checkpoint is the backstop.
  }
});
